// The bytes of a multipart/x-mixed-replace response (RFC 2046 framing). Pure functions: every byte the
// plugin writes is built here, so the wire format can be read and tested in one place.
import { randomBytes } from 'node:crypto'

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>

/**
 * A part's Content-Type as advance framing sends it, built once per route and type: `head` is the header
 * block of a stream's first part, `next` ends a part and opens the next one announced with this type.
 */
export interface Announce {
  readonly type: string
  readonly head: Buffer
  readonly next: Buffer
}

/** One part, encoded: its header block (ending in the blank line) and its body. Built once, written to any
 * number of clients; advance framing writes the body with its type's `announce` bytes instead of `head`. */
export class EncodedPart {
  readonly byteLength: number
  constructor (readonly head: Buffer, readonly body: Buffer, readonly announce: Announce) {
    this.byteLength = head.length + body.length
  }
}

/**
 * How parts are laid out for one viewer. `standard`: each part has its own header block with Content-Length,
 * as cameras send it and ffmpeg, VLC or go2rtc expect. `advance`: each body is followed, in the same write, by
 * the delimiter and the next part's header block, because Chromium and WebKit paint a part only once the next
 * part's headers have arrived. That block can only carry a Content-Type, the one of the part just sent; a part
 * of another type first ends the announced one empty and announces its own.
 */
export type FramingName = 'standard' | 'advance'

/** One route's boundary: the response's Content-Type, the fixed delimiter lines, and the announcements. */
export interface Multipart {
  readonly boundary: string
  /** The response's Content-Type value; no space anywhere, for clients that cut the header at the first one. */
  readonly contentType: string
  /** Written right after the response head: the body starts with the first delimiter at byte 0. */
  readonly opening: Buffer
  /** Standard framing: ends a part and opens the next one; goes out in the same write as the body it ends. */
  readonly delimiter: Buffer
  /** Ends the last part and the whole multipart body. */
  readonly close: Buffer
  /** What a part body must not contain: Chromium's parser ends a part wherever `--B` appears, not only after CRLF. */
  readonly forbidden: Buffer
  /** The advance-framing bytes of a part type, shared by every part of that type. */
  announce (type: string): Announce
}

/** 128 random bits as 32 hex digits: unguessable, so no frame can carry it by chance or by design. */
export function randomBoundary (): string {
  return randomBytes(16).toString('hex')
}

// A route's part types are few; a source that makes up new ones forever gets them built afresh past this.
const ANNOUNCE_CACHE = 16

export function multipart (boundary: string): Multipart {
  const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1')
  const delimiter = `\r\n--${boundary}\r\n`
  const announcements = new Map<string, Announce>()
  return {
    boundary,
    contentType: `multipart/x-mixed-replace;boundary=${boundary}`,
    opening: latin1(`--${boundary}\r\n`),
    delimiter: latin1(delimiter),
    close: latin1(`\r\n--${boundary}--\r\n`),
    forbidden: latin1(`--${boundary}`),
    announce (type) {
      let announce = announcements.get(type)
      if (announce === undefined) {
        const head = `Content-Type: ${type}\r\n\r\n`
        announce = { type, head: latin1(head), next: latin1(delimiter + head) }
        if (announcements.size < ANNOUNCE_CACHE) announcements.set(type, announce)
      }
      return announce
    }
  }
}

/**
 * Headers every response of a push route carries, streams, snapshots and reader pages alike: no cache, the
 * browser's or a proxy's, keeps a live image, and no browser takes the bytes for another type than the one
 * given (a part relayed from a camera is shown as the image it says it is, or not at all).
 */
export const PLAIN_HEADERS: HeaderList = [
  ['Cache-Control', 'no-cache, no-store, must-revalidate, no-transform'],
  ['Pragma', 'no-cache'],
  ['Expires', '0'],
  ['X-Content-Type-Options', 'nosniff']
]

/** Headers every push response carries, before any the user adds: nothing may cache or buffer a live stream. */
export const STREAM_HEADERS: HeaderList = [
  ...PLAIN_HEADERS,
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

export function encodePart (contentType: string, body: Buffer, headers: HeaderList, announce: Announce): EncodedPart {
  let head = `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n`
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`
  return new EncodedPart(Buffer.from(head + '\r\n', 'latin1'), body, announce)
}

const EMPTY_HEADER_BLOCK = Buffer.from('\r\n', 'latin1')

/**
 * What ends a stream after `lastPart` (or after the opening when no part was sent): the last part once more,
 * closed by the close delimiter, so that a client that shows a part only once the next one has begun is left
 * showing the last frame; with no part sent, an empty part keeps the body well-formed. In advance framing the
 * part's header block is out already when `announced` is its type.
 */
export function closingBytes (m: Multipart, framing: FramingName, lastPart: EncodedPart | undefined, announced: Announce | undefined): Buffer[] {
  if (lastPart === undefined) return [EMPTY_HEADER_BLOCK, m.close]
  if (framing === 'standard') return [lastPart.head, lastPart.body, m.close]
  const { announce } = lastPart
  if (announced === announce) return [lastPart.body, m.close]
  return [announced === undefined ? announce.head : announce.next, lastPart.body, m.close]
}
