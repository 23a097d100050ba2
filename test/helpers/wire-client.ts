// A raw TCP client and a strict parser of what came over the wire: tests see the bytes as a camera client would.
import net from 'node:net'
import { PATIENCE_MS } from './patience.js'

export const CRLF = '\r\n'

export class RawClient {
  ended = false
  readonly closed: Promise<void>
  private waiters = new Set<() => void>()
  // Grown by doubling, so that tens of MiB arriving in 64 KiB reads cost linear time, not a copy per read.
  private store = Buffer.alloc(0)
  private length = 0

  private constructor (readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.length + chunk.length > this.store.length) {
        const grown = Buffer.allocUnsafe(Math.max(2 * this.store.length, this.length + chunk.length, 64 * 1024))
        this.store.copy(grown, 0, 0, this.length)
        this.store = grown
      }
      chunk.copy(this.store, this.length)
      this.length += chunk.length
      this.wake()
    })
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.ended = true
      this.wake()
      resolve()
    }))
    socket.on('error', () => {})
  }

  /** Everything received so far. */
  get data (): Buffer {
    return this.store.subarray(0, this.length)
  }

  /** Opens `path`, waits for `parts` parts (0: for the stream to start), and leaves without a word. */
  static async visit (port: number, path: string, parts = 0): Promise<void> {
    const client = await RawClient.get(port, path)
    await (parts === 0 ? client.opened() : client.parts(parts))
    client.destroy()
  }

  /** Connects to 127.0.0.1:`port` and sends `request` as it is. */
  static async open (port: number, request: string): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new RawClient(socket)
    socket.write(request)
    return client
  }

  /** `GET path` over HTTP/1.1 (or `method`, `version`, extra header lines). */
  static get (port: number, path: string, { method = 'GET', version = '1.1', headers = [] as string[] } = {}): Promise<RawClient> {
    return RawClient.open(port, [`${method} ${path} HTTP/${version}`, 'Host: 127.0.0.1', ...headers, '', ''].join(CRLF))
  }

  /** Resolves once `test(data)` holds; rejects if the socket closes first or `timeoutMs` passes. */
  async until (test: (data: Buffer) => boolean, timeoutMs = PATIENCE_MS): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (test(this.data)) return finish()
        if (this.ended) finish(new Error(`socket closed before the expected data; got ${JSON.stringify(this.data.toString('latin1').slice(0, 400))}`))
      }
      const timer = setTimeout(() => finish(new Error(`timed out; got ${JSON.stringify(this.data.toString('latin1').slice(0, 400))}`)), timeoutMs)
      const finish = (error?: Error): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        if (error) reject(error); else resolve()
      }
      this.waiters.add(check)
      check()
    })
  }

  /** Waits until the response head and the opening delimiter have arrived: the stream has started. */
  async opened (): Promise<void> {
    await this.until((data) => data.includes('\r\n\r\n--') || data.includes(`\r\n\r\n${BROWSER_PREAMBLE}--`))
  }

  /** Waits until `count` complete parts have arrived and returns the parsed response. */
  async parts (count: number, timeoutMs?: number): Promise<ParsedResponse> {
    await this.until((data) => {
      const response = parseResponse(data)
      return response !== undefined && response.multipart.parts.length >= count
    }, timeoutMs)
    return parseResponse(this.data) as ParsedResponse
  }

  /** Waits for the server to close the connection and returns everything it sent. */
  async end (): Promise<ParsedResponse> {
    await this.closed
    const response = parseResponse(this.data)
    if (response === undefined) throw new Error(`no complete response head in ${JSON.stringify(this.data.toString('latin1'))}`)
    return response
  }

  /** What has arrived so far, parsed; `undefined` while the head is incomplete. */
  response (): ParsedResponse | undefined {
    return parseResponse(this.data)
  }

  destroy (): void {
    this.socket.destroy()
  }

  private wake (): void {
    for (const waiter of [...this.waiters]) waiter()
  }
}

export interface ParsedPart {
  /** Header lines of the part as sent. */
  rawHeaders: string[]
  /** Header values by lower-case name. */
  headers: Record<string, string>
  body: Buffer
}

/** What a browser's stream starts with: 512 bytes of preamble, for WebKit (see streamOpening in lib/core/wire.ts). */
export const BROWSER_PREAMBLE = `${' '.repeat(510)}\r\n`

export interface ParsedMultipart {
  /** Parts whose closing delimiter has arrived. */
  parts: ParsedPart[]
  /** The close delimiter `--B--` has arrived. */
  closed: boolean
  /** Bytes after the close delimiter. */
  epilogue: Buffer
}

export interface ParsedResponse {
  statusLine: string
  /** Header lines as sent, without CRLF. */
  headerLines: string[]
  /** Header values by lower-case name (last one wins). */
  headers: Record<string, string>
  /** Everything up to and including the blank line, as text. */
  head: string
  body: Buffer
  boundary: string
  multipart: ParsedMultipart
}

/** Splits a response into head and body and parses the body as multipart; `undefined` while the head is incomplete. */
export function parseResponse (data: Buffer): ParsedResponse | undefined {
  const end = data.indexOf('\r\n\r\n')
  if (end === -1) return undefined
  const head = data.subarray(0, end + 4).toString('latin1')
  const [statusLine, ...headerLines] = head.slice(0, -4).split(CRLF)
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    if (colon < 1 || line[colon + 1] !== ' ') throw new Error(`malformed header line ${JSON.stringify(line)}`)
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 2)
  }
  const body = data.subarray(end + 4)
  const match = /^multipart\/x-mixed-replace;boundary=([^\s;"]+)$/.exec(headers['content-type'] ?? '')
  const boundary = match?.[1] ?? ''
  const multipart = match === null ? { parts: [], closed: false, epilogue: Buffer.alloc(0) } : parseMultipart(body, boundary)
  return { statusLine: statusLine as string, headerLines, headers, head, body, boundary, multipart }
}

/**
 * Parses a multipart body strictly: it must start with `--B\r\n` at byte 0 (or right after BROWSER_PREAMBLE),
 * each part's Content-Length (when present) must end exactly at the next delimiter, and delimiters must be
 * `\r\n--B\r\n` or `\r\n--B--`. Throws on anything else; an incomplete last part is left out.
 */
export function parseMultipart (whole: Buffer, boundary: string): ParsedMultipart {
  const preamble = whole[0] === 0x20
  if (preamble) {
    const start = whole.subarray(0, BROWSER_PREAMBLE.length).toString('latin1')
    if (start !== BROWSER_PREAMBLE.slice(0, start.length)) throw new Error(`a preamble other than the browsers' one: ${JSON.stringify(start)}`)
  }
  const body = preamble ? whole.subarray(BROWSER_PREAMBLE.length) : whole
  const opening = `--${boundary}\r\n`
  const result: ParsedMultipart = { parts: [], closed: false, epilogue: Buffer.alloc(0) }
  if (body.length < opening.length) {
    if (!Buffer.from(opening).subarray(0, body.length).equals(body)) throw new Error('body does not start with the delimiter')
    return result
  }
  if (body.subarray(0, opening.length).toString('latin1') !== opening) {
    throw new Error(`body does not start with ${JSON.stringify(opening)}: ${JSON.stringify(body.subarray(0, 80).toString('latin1'))}`)
  }
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1')
  let offset = opening.length
  for (;;) {
    const headEnd = body.indexOf('\r\n', offset) === offset ? offset : body.indexOf('\r\n\r\n', offset)
    if (headEnd === -1) return result
    const rawHeaders = headEnd === offset ? [] : body.subarray(offset, headEnd).toString('latin1').split(CRLF)
    const headers: Record<string, string> = {}
    for (const line of rawHeaders) {
      const colon = line.indexOf(':')
      if (colon < 1) throw new Error(`malformed part header ${JSON.stringify(line)}`)
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    const bodyStart = headEnd + (headEnd === offset ? 2 : 4)
    let bodyEnd: number
    if (headers['content-length'] !== undefined) {
      bodyEnd = bodyStart + Number(headers['content-length'])
      if (body.length < bodyEnd + delimiter.length + 2) return result
      if (!body.subarray(bodyEnd, bodyEnd + delimiter.length).equals(delimiter)) {
        throw new Error(`Content-Length ${headers['content-length']} does not end at a delimiter`)
      }
    } else {
      bodyEnd = body.indexOf(delimiter, bodyStart)
      if (bodyEnd === -1 || body.length < bodyEnd + delimiter.length + 2) return result
    }
    const after = body.subarray(bodyEnd + delimiter.length, bodyEnd + delimiter.length + 2).toString('latin1')
    if (after !== '\r\n' && after !== '--') throw new Error(`delimiter followed by ${JSON.stringify(after)}`)
    result.parts.push({ rawHeaders, headers, body: body.subarray(bodyStart, bodyEnd) })
    offset = bodyEnd + delimiter.length + 2
    if (after === '--') {
      result.closed = true
      result.epilogue = body.subarray(offset)
      return result
    }
  }
}

/** The bodies of `parts` as text. */
export function bodies (parts: readonly ParsedPart[]): string[] {
  return parts.map((part) => part.body.toString())
}

/** The complete parts `client` has received so far. */
export function partsOf (client: RawClient): ParsedPart[] {
  return client.response()?.multipart.parts ?? []
}
