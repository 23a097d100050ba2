// The bytes of a multipart/x-mixed-replace response (RFC 2046 framing). Pure functions: every byte the
// plugin writes is built here, so the wire format can be read and tested in one place.
import { randomBytes } from 'node:crypto'

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>

/** One part, encoded: its header block (ending in the blank line) and its body. Built once, written to any
 * number of clients; advance framing writes the body alone. */
export class EncodedPart {
  readonly byteLength: number
  constructor (readonly head: Buffer, readonly body: Buffer) {
    this.byteLength = head.length + body.length
  }
}

/**
 * How parts are laid out for one viewer. `standard`: each part has its own header block with Content-Length,
 * as cameras send it and ffmpeg, VLC or go2rtc expect. `advance`: each body is followed, in the same write, by
 * the delimiter and the next part's header block, because Chromium and WebKit paint a part only once the next
 * part's headers have arrived; that block can only carry Content-Type, the next frame being unknown then.
 */
export type FramingName = 'standard' | 'advance'

/** The fixed byte sequences of one framing, built once per route. */
export interface Framing {
  readonly name: FramingName
  /** Written right after the response head: the body starts with the first delimiter at byte 0. */
  readonly opening: Buffer
  /** Ends a part and opens the next one; goes out in the same write as the body it ends. */
  readonly delimiter: Buffer
  /** Ends the last part and the whole multipart body. */
  readonly close: Buffer
  /** Whether a part's own header block goes out with its body (standard), or is already sent by the delimiter (advance). */
  readonly partHeads: boolean
}

/** One route's boundary: the response's Content-Type, both framings, and what a body must not contain. */
export interface Multipart {
  readonly boundary: string
  /** The response's Content-Type value; no space anywhere, for clients that cut the header at the first one. */
  readonly contentType: string
  readonly standard: Framing
  readonly advance: Framing
  /** What a part body must not contain: Chromium's parser ends a part wherever `--B` appears, not only after CRLF. */
  readonly forbidden: Buffer
}

/** 128 random bits as 32 hex digits: unguessable, so no frame can carry it by chance or by design. */
export function randomBoundary (): string {
  return randomBytes(16).toString('hex')
}

/** The bytes of `boundary`; `partType` is the Content-Type that advance framing announces for every part. */
export function multipart (boundary: string, partType: string): Multipart {
  const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1')
  const close = latin1(`\r\n--${boundary}--\r\n`)
  const nextHead = `Content-Type: ${partType}\r\n\r\n`
  return {
    boundary,
    contentType: `multipart/x-mixed-replace;boundary=${boundary}`,
    standard: {
      name: 'standard',
      opening: latin1(`--${boundary}\r\n`),
      delimiter: latin1(`\r\n--${boundary}\r\n`),
      close,
      partHeads: true
    },
    advance: {
      name: 'advance',
      opening: latin1(`--${boundary}\r\n${nextHead}`),
      delimiter: latin1(`\r\n--${boundary}\r\n${nextHead}`),
      close,
      partHeads: false
    },
    forbidden: latin1(`--${boundary}`)
  }
}

/** What keeps a live image out of every cache, the browser's and proxies' alike (snapshots carry them too). */
export const NO_CACHE_HEADERS: HeaderList = [
  ['Cache-Control', 'no-cache, no-store, must-revalidate, no-transform'],
  ['Pragma', 'no-cache'],
  ['Expires', '0']
]

/** Headers every push response carries, before any the user adds: nothing may cache or buffer a live stream. */
export const STREAM_HEADERS: HeaderList = [
  ...NO_CACHE_HEADERS,
  ['X-Accel-Buffering', 'no'],
  ['Connection', 'close']
]

/** Response headers the plugin writes itself, which neither options nor hooks may set (lower case). */
export const RESPONSE_RESERVED: ReadonlySet<string> = new Set(['content-type', 'content-length', 'transfer-encoding', 'connection'])

/** Status line and header block of the response (close-delimited: no Content-Length, no chunked coding). */
export function responseHead (httpVersion: '1.0' | '1.1', contentType: string, headers: HeaderList): string {
  let head = `HTTP/${httpVersion} 200 OK\r\nContent-Type: ${contentType}\r\n`
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`
  return head + '\r\n'
}

export function encodePart (contentType: string, body: Buffer, headers: HeaderList): EncodedPart {
  let head = `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n`
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`
  return new EncodedPart(Buffer.from(head + '\r\n', 'latin1'), body)
}

const EMPTY_HEADER_BLOCK = Buffer.from('\r\n', 'latin1')

/**
 * What ends a stream after `lastPart` (or after the opening when no part was sent): the last part once more,
 * closed by the close delimiter, so that a client that shows a part only once the next one has begun is left
 * showing the last frame; with no part sent, an empty part keeps the body well-formed.
 */
export function closingBytes (f: Framing, lastPart: EncodedPart | undefined): Buffer[] {
  if (lastPart === undefined) return f.partHeads ? [EMPTY_HEADER_BLOCK, f.close] : [f.close]
  return f.partHeads ? [lastPart.head, lastPart.body, f.close] : [lastPart.body, f.close]
}
