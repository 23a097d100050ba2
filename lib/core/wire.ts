// The bytes of a multipart/x-mixed-replace response (RFC 2046 framing): head, boundary lines and parts. Pure
// functions: every byte a stream writes is built here, and laid out per viewer by framing.ts.
import { randomBytes } from 'node:crypto'
import type { HeaderList } from './headers.js'

/**
 * A part's Content-Type as advance framing sends it, built once per route and type: `opening` starts a stream
 * with its first part announced with this type, `next` ends a part and opens the next one announced with this
 * type.
 */
export interface Announce {
  readonly type: string
  readonly opening: Buffer
  readonly next: Buffer
  /** What `next` starts with, the delimiter alone: what standard framing sends after a body. */
  readonly delimiter: Buffer
}

/**
 * Bodies up to this size are copied into one buffer with their part's header block and delimiter, so that every
 * viewer gets a part in one write of one buffer. A larger body is not copied: its part goes out as header block,
 * body and delimiter in one corked write, which costs each viewer a few microseconds more (writev), against a
 * kernel's work of tens of microseconds to send it. The copy is one new buffer outside V8's heap per frame: at
 * 200 KB and 30 fps it made the bench's Fastify server run a full garbage collection every one or two seconds,
 * against 1 to 5 in 15 s without it; at 20 KB to 500 viewers it is the cheaper way (docs/benchmark.md).
 */
export const COPY_LIMIT = 64 * 1024

/**
 * One part, encoded for one route: its header block (ending in the blank line) and its body, laid out for each
 * framing as the buffers a viewer is written in one write, one buffer when the body was copied (COPY_LIMIT).
 * Built once, written to any number of clients.
 */
export class EncodedPart {
  readonly head: Buffer
  readonly body: Buffer
  /** Header block, body, delimiter: the part as standard framing writes it. */
  readonly standard: readonly Buffer[]
  /** Body, then the delimiter and a header block announcing this part's type: as advance framing writes it. */
  readonly advance: readonly Buffer[]
  constructor (head: string, body: Buffer, readonly announce: Announce) {
    if (body.length > COPY_LIMIT) {
      this.head = Buffer.from(head, 'latin1')
      this.body = body
      this.standard = [this.head, body, announce.delimiter]
      this.advance = [body, announce.next]
      return
    }
    // One buffer holds every layout as a slice: the body is copied into it once per route, never per viewer.
    const headLength = Buffer.byteLength(head, 'latin1')
    const end = headLength + body.length
    const bytes = Buffer.allocUnsafe(end + announce.next.length)
    bytes.write(head, 0, 'latin1')
    body.copy(bytes, headLength)
    announce.next.copy(bytes, end)
    this.head = bytes.subarray(0, headLength)
    this.body = bytes.subarray(headLength, end)
    this.standard = [bytes.subarray(0, end + announce.delimiter.length)]
    this.advance = [bytes.subarray(headLength)]
  }

  /** Bytes of header block and body. */
  get byteLength (): number {
    return this.head.length + this.body.length
  }
}

/** One route's boundary: the response's Content-Type, the fixed delimiter lines, and the announcements. */
export interface Multipart {
  readonly boundary: string
  /** The response's Content-Type value; no space anywhere, for clients that cut the header at the first one. */
  readonly contentType: string
  /** The same, for `multipart/mixed`: what the reader page asks for (WebKit's fetch() cannot read the other). */
  readonly mixedContentType: string
  /** Written right after the response head (after a preamble: streamOpening): the first delimiter. */
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
  const opening = `--${boundary}\r\n`
  const announcements = new Map<string, Announce>()
  return {
    boundary,
    contentType: `multipart/x-mixed-replace;boundary=${boundary}`,
    mixedContentType: `multipart/mixed;boundary=${boundary}`,
    opening: latin1(opening),
    delimiter: latin1(delimiter),
    close: latin1(`\r\n--${boundary}--\r\n`),
    forbidden: latin1(`--${boundary}`),
    announce (type) {
      let announce = announcements.get(type)
      if (announce === undefined) {
        const head = `Content-Type: ${type}\r\n\r\n`
        const next = latin1(delimiter + head)
        announce = { type, opening: latin1(opening + head), next, delimiter: next.subarray(0, delimiter.length) }
        if (announcements.size < ANNOUNCE_CACHE) announcements.set(type, announce)
      }
      return announce
    }
  }
}

// 510 spaces and a CRLF: with the first delimiter after them, a body of 512 bytes and more.
const PREAMBLE = Buffer.from(`${' '.repeat(510)}\r\n`, 'latin1')

/**
 * What follows a stream's response head: `opening` (Multipart.opening, or Announce.opening in advance framing),
 * after a preamble if `preamble`. RFC 2046 lets a body start with one, and browsers read past it; WebKit shows
 * nothing of a response until 512 bytes of it have arrived, so a first small frame or page would wait for the
 * next one without it. Not for other clients: ffmpeg and VLC want the delimiter at byte 0.
 */
export function streamOpening (opening: Buffer, preamble: boolean): Buffer {
  if (!preamble) return opening
  // Built once per route's opening and shared by every browser's stream, as the opening itself is.
  let withPreamble = preambled.get(opening)
  if (withPreamble === undefined) preambled.set(opening, withPreamble = Buffer.concat([PREAMBLE, opening]))
  return withPreamble
}

/** Each opening after a preamble, held as long as its route holds the opening. */
const preambled = new WeakMap<Buffer, Buffer>()

/**
 * Status line and header block of the response: close-delimited (no Content-Length), or in chunks when `chunked`
 * (an HTTP/1.1 response's `Transfer-Encoding: chunked`, right after its Content-Type).
 */
export function responseHead (httpVersion: '1.0' | '1.1', contentType: string, headers: HeaderList, chunked = false): string {
  let head = `HTTP/${httpVersion} 200 OK\r\nContent-Type: ${contentType}\r\n`
  if (chunked) head += 'Transfer-Encoding: chunked\r\n'
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`
  return head + '\r\n'
}

export function encodePart (contentType: string, body: Buffer, headers: HeaderList, announce: Announce): EncodedPart {
  let head = `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n`
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`
  return new EncodedPart(head + '\r\n', body, announce)
}
