// The bytes of a multipart/x-mixed-replace response (RFC 2046 framing): head, boundary lines and parts. Pure
// functions: every byte a stream writes is built here, and laid out per viewer by framing.ts.
import { randomBytes } from 'node:crypto'
import type { HeaderList } from './headers.js'

/**
 * A part's Content-Type as advance framing sends it, built once per route and type: `opening` (or
 * `browserOpening`) starts a stream with its first part announced with this type, `next` ends a part and opens
 * the next one announced with this type.
 */
export interface Announce {
  readonly type: string
  readonly opening: Buffer
  readonly browserOpening: Buffer
  readonly next: Buffer
}

/** One part, encoded: its header block (ending in the blank line) and its body. Built once, written to any
 * number of clients; advance framing writes the body with its type's `announce` bytes instead of `head`. */
export class EncodedPart {
  readonly byteLength: number
  /**
   * The part as each framing writes it, header block, body and what follows in one buffer: made by framing.ts
   * when a viewer in that framing first needs it, then written as it is to every such viewer.
   */
  standardBytes: Buffer | undefined
  advanceBytes: Buffer | undefined
  constructor (readonly head: Buffer, readonly body: Buffer, readonly announce: Announce) {
    this.byteLength = head.length + body.length
  }
}

/** One route's boundary: the response's Content-Type, the fixed delimiter lines, and the announcements. */
export interface Multipart {
  readonly boundary: string
  /** The response's Content-Type value; no space anywhere, for clients that cut the header at the first one. */
  readonly contentType: string
  /** The same, for `multipart/mixed`: what the reader page asks for (WebKit's fetch() cannot read the other). */
  readonly mixedContentType: string
  /** Written right after the response head: the body starts with the first delimiter at byte 0. */
  readonly opening: Buffer
  /**
   * The opening for a browser: a preamble of 512 bytes first (RFC 2046 lets a body start with one, and browsers
   * read past it), as WebKit shows nothing of a response until 512 bytes of it have arrived: a first small frame
   * or page would wait for the next one. Not for other clients: ffmpeg and VLC want the delimiter at byte 0.
   */
  readonly browserOpening: Buffer
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
  const browserOpening = `${' '.repeat(510)}\r\n${opening}`
  const announcements = new Map<string, Announce>()
  return {
    boundary,
    contentType: `multipart/x-mixed-replace;boundary=${boundary}`,
    mixedContentType: `multipart/mixed;boundary=${boundary}`,
    opening: latin1(opening),
    browserOpening: latin1(browserOpening),
    delimiter: latin1(delimiter),
    close: latin1(`\r\n--${boundary}--\r\n`),
    forbidden: latin1(`--${boundary}`),
    announce (type) {
      let announce = announcements.get(type)
      if (announce === undefined) {
        const head = `Content-Type: ${type}\r\n\r\n`
        announce = { type, opening: latin1(opening + head), browserOpening: latin1(browserOpening + head), next: latin1(delimiter + head) }
        if (announcements.size < ANNOUNCE_CACHE) announcements.set(type, announce)
      }
      return announce
    }
  }
}

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
