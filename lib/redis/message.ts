// How one frame travels through Redis: a short binary head, then the body as it is. No base64 and no JSON: the
// body is copied once into the message at publish, and a subscriber's frame is a view into the message it got.
//
//   "SPF1"                     4 bytes, the format and its version
//   seq                        4 bytes, unsigned big-endian: the publisher's message number, gaps are frames lost
//   head length                4 bytes, unsigned big-endian
//   head                       UTF-8 lines joined by CRLF: the publisher's id, then the part headers as
//                              "Name: value" (Content-Type first when the frame has its own, X-Timestamp last)
//   body                       the rest
import { PART_RESERVED } from '../core/headers.js'
import type { CheckedFrame } from '../core/frame.js'
import type { PublishedFrame } from '../core/live/source.js'
import { isFieldValue, isMediaType, isToken } from '../core/syntax.js'

const MAGIC = Buffer.from('SPF1', 'latin1')
const FIXED = 12

/** A frame as it came out of Redis, and who published it. */
export interface FrameMessage {
  readonly publisher: string
  readonly seq: number
  readonly frame: CheckedFrame
}

/** The message for `frame`, published by `publisher`; numbered by `numberMessage()` when it is sent. */
export function encodeMessage (frame: PublishedFrame, publisher: string): Buffer {
  const lines = [publisher]
  if (frame.contentType !== undefined) lines.push(`Content-Type: ${frame.contentType}`)
  for (const [name, value] of frame.headers) lines.push(`${name}: ${value}`)
  for (const [name, value] of frame.extra) lines.push(`${name}: ${value}`)
  const head = Buffer.from(lines.join('\r\n'), 'utf8')
  const fixed = Buffer.allocUnsafe(FIXED)
  MAGIC.copy(fixed, 0)
  fixed.writeUInt32BE(0, 4)
  fixed.writeUInt32BE(head.length, 8)
  return Buffer.concat([fixed, head, frame.body])
}

/** Writes the publisher's number into a message, once it is sure to be sent. */
export function numberMessage (message: Buffer, seq: number): void {
  message.writeUInt32BE(seq >>> 0, 4)
}

/**
 * Reads a message; throws an Error saying what is wrong when it is not one of ours (another program publishing
 * on the channel) or its headers could not be written to a client as they are.
 */
export function decodeMessage (message: Buffer): FrameMessage {
  if (message.length < FIXED || !message.subarray(0, 4).equals(MAGIC)) throw new Error('not a server push frame message')
  const seq = message.readUInt32BE(4)
  const headLength = message.readUInt32BE(8)
  if (headLength > message.length - FIXED) throw new Error('the message is shorter than its head')
  const [publisher, ...lines] = message.toString('utf8', FIXED, FIXED + headLength).split('\r\n')
  let contentType: string | undefined
  const headers: Array<[string, string]> = []
  for (const line of lines) {
    const colon = line.indexOf(': ')
    const name = line.slice(0, colon)
    const value = line.slice(colon + 2)
    if (colon <= 0 || !isToken(name) || !isFieldValue(value)) throw new Error(`a bad header line: ${JSON.stringify(line.slice(0, 80))}`)
    if (name === 'Content-Type' && headers.length === 0 && contentType === undefined && isMediaType(value)) {
      contentType = value
    } else if (PART_RESERVED.has(name.toLowerCase())) {
      throw new Error(`a header the plugin sets itself: ${name}`)
    } else {
      headers.push([name, value])
    }
  }
  return { publisher: publisher as string, seq, frame: { body: message.subarray(FIXED + headLength), contentType, headers } }
}
