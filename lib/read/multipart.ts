// Reads a multipart/x-mixed-replace byte stream (an IP camera's MJPEG, or this plugin's own) back into parts.
// Right for any split of the input into chunks; memory is bounded by the part and header limits, and each
// body is copied once, when it is complete.
import { FST_SERVER_PUSH_BAD_MULTIPART } from '../errors.js'

/** One part read from a stream. */
export interface ReadPart {
  /** Header values by lower-case name (the last one wins). */
  headers: Record<string, string>
  body: Buffer
}

export interface MultipartReaderOptions {
  /** The largest part body accepted, in bytes; also bounds bytes skipped between parts. Default 16 MiB. */
  maxPartBytes?: number
  /** The largest header block (or preamble) accepted, in bytes. Default 16 KiB. */
  maxHeaderBytes?: number
}

const LF = 0x0a
const CR = 0x0d
const DASH = 0x2d
const EMPTY: Buffer = Buffer.alloc(0)
// Dashes in front of the boundary that are still recognised (cameras send 2, 4, and more).
const MAX_DASHES = 64
// Transport padding and the like after a delimiter, before its line ends.
const MAX_DELIMITER_LINE = 1024

function bad (problem: string): Error {
  return new FST_SERVER_PUSH_BAD_MULTIPART(problem)
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

type State = 'seek' | 'delimiter-line' | 'headers' | 'body' | 'closed'

/**
 * The parser behind `readMultipart`: `push()` each chunk and take the parts it completes; `end()` when the input
 * ends. Throws FST_SERVER_PUSH_BAD_MULTIPART on malformed or oversize input.
 */
export class MultipartParser {
  private readonly token: Buffer
  private readonly maxPartBytes: number
  private readonly maxHeaderBytes: number
  private state: State = 'seek'
  /** Seeking a delimiter or reading a body: the last bytes seen, for a delimiter split across chunks. */
  private tail = EMPTY
  /** Bytes seen in this state (skipped, or body). */
  private seen = 0
  /** Header block, or delimiter line, so far. */
  private pending = EMPTY
  private headers: Record<string, string> = {}
  /** The body's Content-Length, or undefined: scan for the delimiter. */
  private length: number | undefined
  private body: Buffer[] = []

  constructor (boundary: string, { maxPartBytes = 16 * 1024 * 1024, maxHeaderBytes = 16 * 1024 }: MultipartReaderOptions = {}) {
    const bare = boundary.replace(/^-+/, '')
    if (bare === '') throw bad('the boundary is empty')
    this.token = Buffer.from(`--${bare}`, 'latin1')
    this.maxPartBytes = maxPartBytes
    this.maxHeaderBytes = maxHeaderBytes
  }

  /** Whether the close delimiter has been read. */
  get closed (): boolean {
    return this.state === 'closed'
  }

  push (chunk: Uint8Array): ReadPart[] {
    const parts: ReadPart[] = []
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    while (data.length > 0 && this.state !== 'closed') data = this.step(data, parts)
    return parts
  }

  /** The input has ended: throws unless it ended between parts. */
  end (): void {
    if (this.state === 'body') throw bad(`the stream ended in the middle of a part (${this.seen} body bytes read)`)
    if (this.state === 'headers') throw bad('the stream ended in the middle of a part\'s headers')
  }

  /** Consumes what it can of `data`; returns the rest, empty when it needs more. */
  private step (data: Buffer, parts: ReadPart[]): Buffer {
    switch (this.state) {
      case 'seek': return this.seek(data)
      case 'delimiter-line': return this.delimiterLine(data)
      case 'headers': return this.headerBlock(data, parts)
      default: return this.length === undefined ? this.scanBody(data, parts) : this.countBody(data, parts)
    }
  }

  /** Before the first part, or after a body of known length: skips to the next delimiter. */
  private seek (data: Buffer): Buffer {
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
    const whole = this.body.length === 1 ? data : Buffer.concat(this.body)
    parts.push({ headers: this.headers, body: whole.subarray(0, end) })
    return this.delimiterFound(data, found)
  }

  /** A body of known length: takes that many bytes, then looks for the next delimiter. */
  private countBody (data: Buffer, parts: ReadPart[]): Buffer {
    const need = (this.length as number) - this.seen
    const taken = data.length <= need ? data : data.subarray(0, need)
    this.body.push(taken)
    this.seen += taken.length
    if (this.seen < (this.length as number)) return EMPTY
    parts.push({ headers: this.headers, body: this.body.length === 1 ? taken : Buffer.concat(this.body) })
    this.enter('seek')
    return data.subarray(taken.length)
  }

  /** After `--boundary`: `--` closes the stream; otherwise the line ends and a header block follows. */
  private delimiterLine (data: Buffer): Buffer {
    const line = this.pending.length === 0 ? data : Buffer.concat([this.pending, data])
    if (line.length < 2) {
      this.pending = line
      return EMPTY
    }
    if (line[0] === DASH && line[1] === DASH) {
      this.state = 'closed'
      return EMPTY
    }
    const end = line.indexOf(LF)
    if (end === -1) {
      if (line.length > MAX_DELIMITER_LINE) throw bad('a delimiter line does not end')
      this.pending = line
      return EMPTY
    }
    this.enter('headers')
    return line.subarray(end + 1)
  }

  private headerBlock (data: Buffer, parts: ReadPart[]): Buffer {
    const block = this.pending.length === 0 ? data : Buffer.concat([this.pending, data])
    let end: number
    let next: number
    if (block[0] === LF) {
      [end, next] = [0, 1]
    } else if (block[0] === CR && block[1] === LF) {
      [end, next] = [0, 2]
    } else {
      const lflf = block.indexOf('\n\n')
      const crlf = block.indexOf('\n\r\n')
      if (lflf === -1 && crlf === -1) {
        if (block.length > this.maxHeaderBytes) throw bad(`a part's header block is larger than maxHeaderBytes (${this.maxHeaderBytes})`)
        this.pending = block
        return EMPTY
      }
      ;[end, next] = lflf !== -1 && (crlf === -1 || lflf < crlf) ? [lflf + 1, lflf + 2] : [crlf + 1, crlf + 3]
    }
    if (end > this.maxHeaderBytes) throw bad(`a part's header block is larger than maxHeaderBytes (${this.maxHeaderBytes})`)
    this.headers = parseHeaders(block.toString('latin1', 0, end))
    const length = this.headers['content-length']
    if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw bad(`Content-Length ${JSON.stringify(length)} is not a number`)
      if (Number(length) > this.maxPartBytes) throw bad(`a part's Content-Length ${length} is larger than maxPartBytes (${this.maxPartBytes})`)
    }
    const rest = block.subarray(next)
    if (length === '0') {
      parts.push({ headers: this.headers, body: EMPTY })
      this.enter('seek')
      return rest
    }
    this.enter('body')
    this.length = length === undefined ? undefined : Number(length)
    return rest
  }

  private delimiterFound (data: Buffer, found: Found): Buffer {
    const rest = data.subarray(found.after - this.tail.length)
    this.enter('delimiter-line')
    return rest
  }

  private enter (state: State): void {
    this.state = state
    this.tail = EMPTY
    this.pending = EMPTY
    this.seen = 0
    this.body = []
  }

  /** Keeps the last bytes of tail+data that could begin a delimiter (with its dashes and line ending). */
  private keepTail (data: Buffer): void {
    const keep = this.token.length + MAX_DASHES + 2
    this.tail = data.length >= keep ? data.subarray(data.length - keep) : Buffer.concat([this.tail, data]).subarray(-keep)
    this.seen += data.length
  }

  /**
   * The first delimiter in tail+data that ends inside `data`: `--boundary` (or more dashes) at the start of a line,
   * or right at the start of this state. Searches `data` itself, without copying it.
   */
  private find (data: Buffer): Found | undefined {
    const { token, tail } = this
    const at = (i: number): number | undefined => i < tail.length ? tail[i] : data[i - tail.length]
    const matches = (i: number): boolean => {
      for (let j = 0; j < token.length; j++) if (at(i + j) !== token[j]) return false
      return true
    }
    const candidates = function * (): Generator<number> {
      for (let i = Math.max(0, tail.length - token.length + 1); i < tail.length; i++) if (matches(i)) yield i
      for (let i = data.indexOf(token); i !== -1; i = data.indexOf(token, i + 1)) yield tail.length + i
    }
    for (const i of candidates()) {
      let k = i - 1
      while (k >= 0 && at(k) === DASH) k--
      if (k >= 0 && at(k) === LF) return { bodyEnd: k > 0 && at(k - 1) === CR ? k - 1 : k, after: i + token.length }
      // No line ending before it: a delimiter only at the very start of this state (an empty body, no preamble,
      // or a camera that writes no CRLF after a counted body), known when the tail still holds all that was seen.
      if (k < 0 && this.seen === tail.length) return { bodyEnd: 0, after: i + token.length }
    }
    return undefined
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
  parser.end()
}
