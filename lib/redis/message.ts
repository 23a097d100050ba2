// How one frame travels through Redis: a short binary head, then the body as it is. No base64 and no JSON: the
// body is copied once into the message at publish, and a subscriber's frame is a view into the message it got.
//
//   "SPF1"                     4 bytes, the format and its version
//   seq                        4 bytes, unsigned big-endian: the publisher's message number, gaps are frames lost
//   head length                4 bytes, unsigned big-endian
//   head                       UTF-8 lines joined by CRLF: the publisher's id, then the part headers as
//                              "Name: value" (Content-Type first when the frame has its own, X-Timestamp last)
//   body                       the rest
//
// And how a receiver reads the numbers (Numbering, at the end): gaps are counted, and no number can silence a
// publisher.
import { FST_SERVER_PUSH_BAD_FRAME } from '../core/errors.js'
import type { CheckedFrame } from '../core/frame.js'
import { frameHeaderProblem } from '../core/headers.js'
import type { PublishedFrame } from '../core/live/source.js'
import { isFieldValue, isMediaType, isToken } from '../core/syntax.js'

const MAGIC = Buffer.from('SPF1', 'latin1')
const FIXED = 12
/** The longest head a message carries, in bytes: a publisher's id and a frame's labels need far less, and a
 * receiver must not decode megabytes of header text a forged message says it holds. */
export const MAX_HEAD_BYTES = 64 * 1024

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
  if (head.length > MAX_HEAD_BYTES) throw new FST_SERVER_PUSH_BAD_FRAME(`its part headers take ${head.length} bytes, over the ${MAX_HEAD_BYTES} a Redis message carries`)
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
 * on the channel), its body is over `maxFrameBytes`, or its head is not what a frame may carry onto a part or a
 * snapshot (see `frameHeaderProblem`): a forged message is refused whole, never passed on in part.
 */
export function decodeMessage (message: Buffer, maxFrameBytes = Infinity): FrameMessage {
  if (message.length < FIXED || !message.subarray(0, 4).equals(MAGIC)) throw new Error('not a server push frame message')
  const seq = message.readUInt32BE(4)
  const headLength = message.readUInt32BE(8)
  if (headLength > message.length - FIXED) throw new Error('the message is shorter than its head')
  if (headLength > MAX_HEAD_BYTES) throw new Error(`a head of ${headLength} bytes, over the ${MAX_HEAD_BYTES} a message may have`)
  const bodyLength = message.length - FIXED - headLength
  if (bodyLength > maxFrameBytes) throw new Error(`a frame of ${bodyLength} bytes, over maxFrameBytes (${maxFrameBytes})`)
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
      continue
    }
    const problem = frameHeaderProblem(name)
    if (problem !== undefined) throw new Error(problem)
    headers.push([name, value])
  }
  return { publisher: publisher as string, seq, frame: { body: message.subarray(FIXED + headLength), contentType, headers } }
}

// A frame's number may run ahead of the newest one's by the frames missed in between: up to MAX_GAP (a process
// paused or cut off for minutes), or as many as milliseconds passed since the newest came (a longer outage: no
// camera runs at 1000 fps). A bigger jump, or a step back, is the numbering starting over (or a forged message):
// the frame is shown and nothing is counted, so that no message can make later ones look old, or a counter of
// missed frames jump by billions.
const MAX_GAP = 10_000

// The stored frame and live messages cross: it is read while messages are on their way to the subscriber, and a
// publisher PUBLISHes a frame just before it stores it. So between the stored frame and a live one, a step back of
// fewer than this is old news, not a restart: a few frames at most are in flight.
const CROSSING = 16

/** The newest frame taken: which publisher, its number there, when it came, and whether it was the stored one. */
interface Newest {
  readonly publisher: string
  readonly seq: number
  readonly at: number
  readonly stored: boolean
}

/** What a receiver makes of a message's number: whether to show it, and how many frames it missed before it. */
export interface Verdict {
  readonly news: boolean
  readonly missed: number
}

/** The publishers' numbering as one receiver sees it: no message can silence a publisher (see MAX_GAP, CROSSING). */
export class Numbering {
  private newest: Newest | undefined

  /** A new subscription starts afresh. */
  reset (): void {
    this.newest = undefined
  }

  /** Takes `message`, live or `stored` (the stored frame read after subscribing), come at `at` (ms). */
  take ({ publisher, seq }: Pick<FrameMessage, 'publisher' | 'seq'>, stored: boolean, at: number): Verdict {
    const { newest } = this
    let missed = 0
    if (newest?.publisher === publisher) {
      const ahead = seq - newest.seq
      // The same frame again (a live copy of the stored one, a replay), or frames crossing the stored one.
      if (ahead === 0 || (ahead < 0 && ahead > -CROSSING && (stored || newest.stored))) return { news: false, missed }
      if (ahead > 1 && ahead - 1 <= Math.max(MAX_GAP, at - newest.at)) missed = ahead - 1
    }
    this.newest = { publisher, seq, at, stored }
    return { news: true, missed }
  }
}
