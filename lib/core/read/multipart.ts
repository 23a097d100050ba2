// Reads a multipart/x-mixed-replace byte stream (an IP camera's MJPEG, or this plugin's own) back into parts.
// Right for any split of the input into chunks, in time linear in its size whatever the boundary (at most 70
// characters, as RFC 2046 says, and the search for it carries its state from chunk to chunk instead of looking
// back). Memory is bounded by the part and header limits; a body is copied at most once, when it is complete
// (one that came in one chunk is a view).
// A part goes out only once it is known whole: its delimiter has been read, which is what catches a wrong
// Content-Length, or its body is a JPEG from start to end marker (a camera that sends each delimiter with the
// next frame would otherwise cost a frame of delay).
import { checkNumber } from '../check.js'
import { FST_SERVER_PUSH_BAD_MULTIPART } from '../errors.js'
import { Collected, Joined, Tail } from './bytes.js'
import { isWholeJpeg } from './jpeg.js'
import { rfc2046BoundaryProblem } from '../syntax.js'

/** One part read from a stream. */
export interface ReadPart {
  /** Header values by lower-case name (the last one wins). */
  headers: Record<string, string>
  body: Buffer
}

export interface MultipartReaderOptions {
  /** The largest part body accepted, in bytes; also bounds the preamble before the first part. Default 16 MiB. */
  maxPartBytes?: number
  /** The largest header block of a part accepted, in bytes. Default 16 KiB. */
  maxHeaderBytes?: number
}

const LF = 0x0a
const CR = 0x0d
const DASH = 0x2d
const SPACE = 0x20
const TAB = 0x09
const EMPTY: Buffer = Buffer.alloc(0)
// Dashes in front of the boundary that are still recognised (cameras send 2, 4, and more).
const MAX_DASHES = 64
// Transport padding and the like after a delimiter, before its line ends.
const MAX_DELIMITER_LINE = 1024
// Line ends a camera may put between a counted body and the next delimiter.
const MAX_LINE_ENDS = 4

function bad (problem: string): Error {
  return new FST_SERVER_PUSH_BAD_MULTIPART(problem)
}

/** What may follow the boundary on a delimiter line: `--` (the close), padding, or the line end. */
function endsDelimiter (byte: number): boolean {
  return byte === DASH || byte === CR || byte === LF || byte === SPACE || byte === TAB
}

/**
 * `boundary` without its leading dashes, which some cameras write (`boundary=--myboundary`) and which the
 * delimiter's dashes cover anyway (2 to 64 are recognised); throws FST_SERVER_PUSH_BAD_MULTIPART saying why
 * when RFC 2046 forbids it, leading dashes counted, or nothing is left without them.
 */
function checkBoundary (boundary: string): string {
  const problem = rfc2046BoundaryProblem(boundary)
  if (problem !== undefined) throw bad(problem)
  const bare = boundary.replace(/^-+/, '')
  if (bare === '') throw bad('the boundary is empty')
  return bare
}

/** For each length n of a prefix of `token`, the longest shorter prefix that is also a suffix of it (KMP). */
function fallbacks (token: Buffer): Int32Array {
  const fallback = new Int32Array(token.length + 1)
  let k = 0
  for (let i = 1; i < token.length; i++) {
    while (k > 0 && token[i] !== token[k]) k = fallback[k] as number
    if (token[i] === token[k]) k++
    fallback[i + 1] = k
  }
  return fallback
}

/**
 * The boundary of a multipart Content-Type value, quoted or not, without leading dashes (some cameras write
 * `boundary=--myboundary`); undefined when there is none.
 */
export function boundaryOf (contentType: string): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(contentType)
  const boundary = (match?.[1] ?? match?.[2])?.replace(/^-+/, '')
  return boundary === undefined || boundary === '' ? undefined : boundary
}

/** A delimiter found: where the line ending before it starts, and where its boundary ends (both in tail+data). */
interface Found { bodyEnd: number, after: number }

/** What a whole `--boundary` in the input is: a delimiter, not one, or not known until the next byte comes. */
type Candidate = Found | 'not' | 'wait'

type State = 'preamble' | 'delimiter-line' | 'headers' | 'body' | 'after-body' | 'closed'

/**
 * The parser behind `readMultipart`: `push()` each chunk and take the parts it completes; `end()` when the input
 * ends. Throws FST_SERVER_PUSH_BAD_MULTIPART on malformed or oversize input, from the `push()` after the one
 * that returned the parts before the fault.
 */
export class MultipartParser {
  private readonly token: Buffer
  private readonly fallback: Int32Array
  private readonly maxPartBytes: number
  private readonly maxHeaderBytes: number
  private state: State = 'preamble'
  private failure: unknown
  /** Seeking a delimiter: the last bytes seen, which a delimiter split across chunks begins in (with its dashes
   * and line end). */
  private readonly tail: Tail
  /** Seeking a delimiter: how much of the token the bytes seen end with (the KMP automaton's state). */
  private matched = 0
  /** Bytes seen in this state (skipped, body, or of the delimiter line). */
  private seen = 0
  /** The delimiter line's first byte, or what came after a counted body, so far (both short). */
  private pending = EMPTY
  /** A header block cut across chunks. */
  private readonly head = new Joined()
  private headers: Record<string, string> = {}
  /** The body's Content-Length, or undefined: scan for the delimiter. */
  private length: number | undefined
  private body = new Collected()
  /** A counted part read whole, held until its delimiter shows its Content-Length was right. */
  private held: ReadPart | undefined

  constructor (boundary: string, { maxPartBytes = 16 * 1024 * 1024, maxHeaderBytes = 16 * 1024 }: MultipartReaderOptions = {}) {
    checkNumber('readMultipart()', 'maxPartBytes', maxPartBytes, 1)
    checkNumber('readMultipart()', 'maxHeaderBytes', maxHeaderBytes, 1)
    this.token = Buffer.from(`--${checkBoundary(boundary)}`, 'latin1')
    this.fallback = fallbacks(this.token)
    this.tail = new Tail(this.token.length + MAX_DASHES + 3)
    this.maxPartBytes = maxPartBytes
    this.maxHeaderBytes = maxHeaderBytes
  }

  /** Whether the close delimiter has been read. */
  get closed (): boolean {
    return this.state === 'closed'
  }

  push (chunk: Uint8Array): ReadPart[] {
    if (this.failure !== undefined) throw this.failure
    const parts: ReadPart[] = []
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    try {
      while (data.length > 0 && this.state !== 'closed') data = this.step(data, parts)
    } catch (error) {
      // The parts before the fault are whole: they go out, and the next call reports it. A part held for its
      // delimiter was shown wrong by the fault, and never goes out.
      this.failure = error
      this.held = undefined
      if (parts.length === 0) throw error
    }
    return parts
  }

  /**
   * The input has ended: throws unless it ended between parts. Returns a last counted part whose delimiter never
   * came: nothing but line ends (or the start of a delimiter) followed it, so the input ended right after it.
   */
  end (): ReadPart[] {
    if (this.failure !== undefined) throw this.failure
    if (this.state === 'body') throw bad(`the stream ended in the middle of a part (${this.seen} body bytes read)`)
    // Nothing after a delimiter line is an end between parts: ffmpeg's mpjpeg writes each delimiter before its part
    // and no close delimiter.
    if (this.state === 'headers' && this.head.length > 0) throw bad('the stream ended in the middle of a part\'s headers')
    return this.release()
  }

  /** The held part, if any, now: its delimiter has come, or the input ended. */
  private release (): ReadPart[] {
    const { held } = this
    this.held = undefined
    return held === undefined ? [] : [held]
  }

  /** A counted part whose bytes are all here: out at once if it is a whole JPEG, else held for its delimiter. */
  private counted (part: ReadPart, parts: ReadPart[]): void {
    if (isWholeJpeg(part.body)) parts.push(part)
    else this.held = part
    this.enter('after-body')
  }

  /** Consumes what it can of `data`; returns the rest, empty when it needs more. */
  private step (data: Buffer, parts: ReadPart[]): Buffer {
    switch (this.state) {
      case 'preamble': return this.preamble(data)
      case 'delimiter-line': return this.delimiterLine(data)
      case 'headers': return this.headerBlock(data, parts)
      case 'after-body': return this.afterBody(data, parts)
      default: return this.length === undefined ? this.scanBody(data, parts) : this.countBody(data, parts)
    }
  }

  /** Before the first part: skips to the first delimiter. */
  private preamble (data: Buffer): Buffer {
    const found = this.find(data)
    if (found === undefined) {
      this.keepTail(data)
      if (this.seen > this.maxPartBytes) throw bad(`no delimiter line --${this.token.subarray(2).toString('latin1')} within ${this.maxPartBytes} bytes`)
      return EMPTY
    }
    return this.delimiterFound(data, found)
  }

  /** A body of unknown length: ends at the next delimiter. */
  private scanBody (data: Buffer, parts: ReadPart[]): Buffer {
    const found = this.find(data)
    this.body.push(data)
    if (found === undefined) {
      this.keepTail(data)
      if (this.seen - this.tail.length > this.maxPartBytes) throw bad(`a part is larger than maxPartBytes (${this.maxPartBytes})`)
      return EMPTY
    }
    // Positions in tail+data count from where the tail starts in the body.
    const end = this.seen - this.tail.length + found.bodyEnd
    if (end > this.maxPartBytes) throw bad(`a part is larger than maxPartBytes (${this.maxPartBytes})`)
    parts.push({ headers: this.headers, body: this.body.bytes().subarray(0, end) })
    return this.delimiterFound(data, found)
  }

  /** A body of known length: takes that many bytes; the next delimiter must follow. */
  private countBody (data: Buffer, parts: ReadPart[]): Buffer {
    const need = (this.length as number) - this.seen
    const taken = data.length <= need ? data : data.subarray(0, need)
    this.body.push(taken)
    this.seen += taken.length
    if (this.seen < (this.length as number)) return EMPTY
    this.counted({ headers: this.headers, body: this.body.bytes() }, parts)
    return data.subarray(taken.length)
  }

  /**
   * After a counted body: line ends, then the delimiter, or the Content-Length was wrong (the body would be cut
   * or run into the next part).
   */
  private afterBody (data: Buffer, parts: ReadPart[]): Buffer {
    const bytes = this.pending.length === 0 ? data : Buffer.concat([this.pending, data])
    const wrong = (): Error => bad(`a part's Content-Length (${this.length as number}) does not match its body: no delimiter follows it`)
    let i = 0
    while (i < bytes.length && (bytes[i] === CR || bytes[i] === LF)) i++
    let d = i
    while (d < bytes.length && bytes[d] === DASH) d++
    const bare = this.token.subarray(2)
    const have = bytes.subarray(d, d + bare.length)
    if (i > MAX_LINE_ENDS || d - i > MAX_DASHES || (d < bytes.length && d - i < 2) || !have.equals(bare.subarray(0, have.length))) throw wrong()
    if (have.length < bare.length) {
      this.pending = bytes
      return EMPTY
    }
    parts.push(...this.release())
    this.enter('delimiter-line')
    return bytes.subarray(d + bare.length)
  }

  /** After `--boundary`: `--` closes the stream; otherwise the line ends and a header block follows. */
  private delimiterLine (data: Buffer): Buffer {
    let line = data
    if (this.seen < 2) {
      // Its first two bytes tell the close; the rest is only counted, so that padding in single bytes costs no copy.
      line = this.pending.length === 0 ? data : Buffer.concat([this.pending, data])
      if (line.length < 2) {
        this.pending = line
        this.seen = 1
        return EMPTY
      }
      if (line[0] === DASH && line[1] === DASH) {
        this.state = 'closed'
        return EMPTY
      }
      this.pending = EMPTY
      this.seen = 0
    }
    const end = line.indexOf(LF)
    if (end === -1) {
      this.seen += line.length
      if (this.seen > MAX_DELIMITER_LINE) throw bad('a delimiter line does not end')
      return EMPTY
    }
    this.enter('headers')
    return line.subarray(end + 1)
  }

  private headerBlock (data: Buffer, parts: ReadPart[]): Buffer {
    // A block cut across chunks is joined, and searched again only from where the last piece ended.
    const from = Math.max(0, this.head.length - 2)
    const block = this.head.length === 0 ? data : this.head.append(data)
    let end: number
    let next: number
    if (block[0] === LF) {
      [end, next] = [0, 1]
    } else if (block[0] === CR && block[1] === LF) {
      [end, next] = [0, 2]
    } else {
      const lflf = block.indexOf('\n\n', from)
      const crlf = block.indexOf('\n\r\n', from)
      if (lflf === -1 && crlf === -1) {
        if (block.length > this.maxHeaderBytes) throw bad(`a part's header block is larger than maxHeaderBytes (${this.maxHeaderBytes})`)
        if (block === data) this.head.append(data)
        return EMPTY
      }
      ;[end, next] = lflf !== -1 && (crlf === -1 || lflf < crlf) ? [lflf + 1, lflf + 2] : [crlf + 1, crlf + 3]
    }
    if (end > this.maxHeaderBytes) throw bad(`a part's header block is larger than maxHeaderBytes (${this.maxHeaderBytes})`)
    this.headers = parseHeaders(block.toString('latin1', 0, end))
    this.head.clear()
    const length = this.headers['content-length']
    if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw bad(`Content-Length ${JSON.stringify(length)} is not a number`)
      if (Number(length) > this.maxPartBytes) throw bad(`a part's Content-Length ${length} is larger than maxPartBytes (${this.maxPartBytes})`)
    }
    const rest = block.subarray(next)
    this.length = length === undefined ? undefined : Number(length)
    if (this.length === 0) {
      this.counted({ headers: this.headers, body: EMPTY }, parts)
      return rest
    }
    this.enter('body')
    return rest
  }

  private delimiterFound (data: Buffer, found: Found): Buffer {
    const rest = data.subarray(found.after - this.tail.length)
    this.enter('delimiter-line')
    return rest
  }

  private enter (state: State): void {
    this.state = state
    this.tail.clear()
    this.matched = 0
    this.pending = EMPTY
    this.seen = 0
    this.body = new Collected()
  }

  /**
   * Keeps the last bytes of tail+data that could begin a delimiter (with its dashes and line ending), and the
   * automaton's state after them: carried on over a short chunk, else found anew from the chunk's last bytes,
   * which hold any beginning of the token that the input ends with. Either way no more steps than bytes.
   */
  private keepTail (data: Buffer): void {
    const { length } = this.token
    let matched = data.length < length ? this.matched : 0
    for (let i = data.length < length ? 0 : data.length - length; i < data.length; i++) matched = this.advance(matched, data[i] as number)
    this.matched = matched
    this.tail.push(data)
    this.seen += data.length
  }

  /** The automaton's step: how much of the token the input ends with once `byte` follows `matched` of it. */
  private advance (matched: number, byte: number): number {
    const { token, fallback } = this
    let k = matched === token.length ? fallback[matched] as number : matched
    while (k > 0 && token[k] !== byte) k = fallback[k] as number
    return token[k] === byte ? k + 1 : 0
  }

  /**
   * The first delimiter in tail+data: `--boundary` (or more dashes) at the start of a line, or right at the start
   * of this state, followed by `--`, padding or the line end. One whose next byte has not come yet stops the
   * search; the kept tail holds it for the next look. A token begun in the tail is found by the automaton, which
   * goes on from its state over no more of `data` than such a token reaches into; the rest by `indexOf`, in
   * `data` itself, without copying it.
   */
  private find (data: Buffer): Found | undefined {
    const { token } = this
    const tailLength = this.tail.length
    let matched = this.matched
    let candidate: Candidate = matched === token.length ? this.candidate(data, tailLength - token.length) : 'not'
    for (let j = 0; candidate === 'not' && j < Math.min(data.length, token.length - 1); j++) {
      matched = this.advance(matched, data[j] as number)
      if (matched === token.length) candidate = this.candidate(data, tailLength + j + 1 - token.length)
    }
    for (let i = data.indexOf(token); candidate === 'not' && i !== -1; i = data.indexOf(token, i + 1)) candidate = this.candidate(data, tailLength + i)
    return typeof candidate === 'string' ? undefined : candidate
  }

  /** The byte at `i` of tail+data. */
  private at (data: Buffer, i: number): number | undefined {
    const tailLength = this.tail.length
    return i < tailLength ? this.tail.at(i) : data[i - tailLength]
  }

  /** What the token at `i` of tail+data is. */
  private candidate (data: Buffer, i: number): Candidate {
    const after = i + this.token.length
    const next = this.at(data, after)
    if (next === undefined) return 'wait'
    if (!endsDelimiter(next)) return 'not'
    let k = i - 1
    while (k >= 0 && this.at(data, k) === DASH && i - k <= MAX_DASHES) k--
    if (k >= 0 && this.at(data, k) === LF) return { bodyEnd: k > 0 && this.at(data, k - 1) === CR ? k - 1 : k, after }
    // No line ending before it: a delimiter only at the very start of this state (an empty body, or no
    // preamble), known when the tail still holds all that was seen.
    if (k < 0 && this.seen === this.tail.length) return { bodyEnd: 0, after }
    return 'not'
  }
}

function parseHeaders (block: string): Record<string, string> {
  const headers: Record<string, string> = {}
  let last: string | undefined
  for (const raw of block.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') continue
    if ((line[0] === ' ' || line[0] === '\t') && last !== undefined) {
      headers[last] += ' ' + line.trim()
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) throw bad(`a part header line has no name: ${JSON.stringify(line.slice(0, 80))}`)
    last = line.slice(0, colon).trim().toLowerCase()
    headers[last] = line.slice(colon + 1).trim()
  }
  return headers
}

/**
 * The parts of a multipart/x-mixed-replace byte stream, as they complete: `input` is any async iterable of
 * bytes (a Node stream, a fetch body), `boundary` the one from its Content-Type (`boundaryOf()`). Ends after
 * the close delimiter or when the input ends between parts; throws FST_SERVER_PUSH_BAD_MULTIPART when the input
 * is malformed, exceeds a limit, or ends in the middle of a part.
 */
export async function * readMultipart (input: AsyncIterable<Uint8Array>, boundary: string, options?: MultipartReaderOptions): AsyncGenerator<ReadPart, void, undefined> {
  const parser = new MultipartParser(boundary, options)
  for await (const chunk of input) {
    yield * parser.push(chunk)
    if (parser.closed) return
  }
  yield * parser.end()
}
