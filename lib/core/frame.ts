// What a source yields, and how one frame becomes the bytes of one part.
import { FST_SERVER_PUSH_BAD_FRAME } from './errors.js'
import { frameHeaderProblem, toHeaderList, type HeaderList, type HeaderRecord } from './headers.js'
import { withHuffmanTables } from './huffman-tables.js'
import { isMediaType } from './syntax.js'
import { encodePart, type EncodedPart, type Multipart } from './wire.js'

/** A part's body: bytes as they are, or a string sent as UTF-8. */
export type FrameBody = Buffer | Uint8Array | string

/** A part's body with its own Content-Type and extra part headers. */
export interface FrameObject {
  body: FrameBody
  /** Overrides the route's `contentType` for this part, e.g. `image/png`. */
  contentType?: string
  /** Extra part headers, e.g. `{ 'X-Frame': '12' }`: `X-…` labels and `Last-Modified` only, never one a browser
   * or a proxy acts on (see `frameHeaderProblem` in headers.ts); a snapshot carries them too. */
  headers?: HeaderRecord
}

/** One part of the stream. */
export type Frame = FrameBody | FrameObject

function badFrame (problem: string): Error {
  return new FST_SERVER_PUSH_BAD_FRAME(problem)
}

function toBody (body: unknown, fail: (problem: string) => Error): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8')
  if (Buffer.isBuffer(body)) return body
  // A view on the same memory: a frame is never copied.
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  throw fail(`a frame must be a Buffer, Uint8Array, string or { body }, got ${describe(body)}`)
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? `an object without body (keys: ${Object.keys(value).join(', ') || 'none'})` : typeof value
}

/** A frame checked and taken apart; the part bytes for a route are made from it by `encodeFrame`. */
export interface CheckedFrame {
  readonly body: Buffer
  readonly contentType: string | undefined
  readonly headers: HeaderList
}

/**
 * Checks what a source produced; throws FST_SERVER_PUSH_BAD_FRAME when it is not a frame, or what `fail` makes of
 * the problem (a frame given as an option is a wrong option).
 */
export function checkFrame (frame: unknown, fail: (problem: string) => Error = badFrame): CheckedFrame {
  if (typeof frame !== 'object' || frame === null || frame instanceof Uint8Array || !('body' in frame)) {
    return { body: toBody(frame, fail), contentType: undefined, headers: [] }
  }
  const object = frame as FrameObject
  const body = toBody(object.body, fail)
  const { contentType } = object
  if (contentType !== undefined && (typeof contentType !== 'string' || !isMediaType(contentType))) {
    throw fail(`contentType ${JSON.stringify(contentType)} is not a media type like image/jpeg`)
  }
  let headers: HeaderList = []
  if (object.headers !== undefined) {
    headers = toHeaderList(object.headers, fail)
    for (const [name] of headers) {
      const problem = frameHeaderProblem(name)
      if (problem !== undefined) throw fail(problem)
    }
  }
  return { body, contentType, headers }
}

/** How a route turns its frames into parts, whatever the source kind. */
export interface PartFormat {
  /** For frames that carry none. */
  readonly contentType: string
  readonly multipart: Multipart
  /** Whether image/jpeg frames without Huffman tables get the standard ones (huffman-tables.ts). */
  readonly jpegHuffmanTables: boolean
}

const JPEG = /^image\/jpeg\b/i

/** `body` as a route of type `type` sends it: with the standard Huffman tables if it is a JPEG without them. */
export function sentBody (body: Buffer, type: string, jpegHuffmanTables: boolean): Buffer {
  return jpegHuffmanTables && JPEG.test(type) ? withHuffmanTables(body) : body
}

/**
 * The part bytes of a checked frame for one route: its Content-Type when the frame carries none, `extra` headers
 * after the frame's own. Throws FST_SERVER_PUSH_BAD_FRAME when the body holds the route's delimiter.
 */
export function encodeFrame (frame: CheckedFrame, format: PartFormat, extra: HeaderList = []): EncodedPart {
  const { multipart: m } = format
  const type = frame.contentType ?? format.contentType
  const body = sentBody(frame.body, type, format.jpegHuffmanTables)
  if (body.indexOf(m.forbidden) !== -1) {
    throw badFrame(`the body contains the boundary delimiter --${m.boundary}; use the default random boundary or another one`)
  }
  return encodePart(type, body, extra.length === 0 ? frame.headers : [...frame.headers, ...extra], m.announce(type))
}

/** Checks and encodes one frame for a route; throws FST_SERVER_PUSH_BAD_FRAME. */
export function toPart (frame: unknown, format: PartFormat): EncodedPart {
  return encodeFrame(checkFrame(frame), format)
}
