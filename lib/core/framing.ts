// How parts are laid out for one viewer, in one place: the framings, and the bytes of each part and of the close
// in each. Which framing a request gets is the client's profile (client-profile.ts).
import type { Sink } from './sink.js'
import { streamOpening, type Announce, type EncodedPart, type Multipart } from './wire.js'

/**
 * The framings, by name: the route option's check, the answer to a bad `?framing=` and the table of layouts
 * below are all made from this list.
 */
export const FRAMING_NAMES = Object.freeze(['standard', 'advance'] as const)

/**
 * How parts are laid out for one viewer. `standard`: each part has its own header block with Content-Length,
 * as cameras send it and ffmpeg, VLC or go2rtc expect. `advance`: each body is followed, in the same write, by
 * the delimiter and the next part's header block, because Chromium and WebKit paint a part only once the next
 * part's headers have arrived. That block can only carry a Content-Type, the one of the part just sent; a part
 * of another type first ends the announced one empty and announces its own. The first part's header block, with
 * the route's type, goes out with the opening: WebKitGTK's HTTP/2 reader (libsoup before 3.7.1) crashes or loses
 * streams when it must wait for a header block, but not when it waits for a body.
 */
export type FramingName = typeof FRAMING_NAMES[number]

/** What the `framing` setting may be. */
export const FRAMING_CHOICES = Object.freeze(['auto', ...FRAMING_NAMES] as const)

/** `auto`: per request, by the kind of client; or one framing for every request. */
export type FramingChoice = typeof FRAMING_CHOICES[number]

/** Whether `value` (a request's `?framing=`) names a framing. */
export function isFramingName (value: unknown): value is FramingName {
  return FRAMING_NAMES.some((name) => name === value)
}

/** One viewer's layout: how its stream opens, writes its parts, and says how its stream ends. */
export interface Framing {
  readonly name: FramingName
  /** What follows the response head: the first delimiter, after a preamble for a browser that renders. */
  readonly opening: Buffer
  /** Writes one part in one write, complete on arrival; returns the number of bytes written. */
  write (sink: Sink, part: EncodedPart): number
  /**
   * What ends the stream after `lastPart` (or after the opening when no part was sent): the last part once more,
   * closed by the close delimiter, so that a client that shows a part only once the next one has begun is left
   * showing the last frame; with no part sent, an empty part keeps the body well-formed.
   */
  closing (lastPart: EncodedPart | undefined): Buffer[]
}

const EMPTY_HEADER_BLOCK = Buffer.from('\r\n', 'latin1')

/** Header block, body, delimiter. */
class StandardFraming implements Framing {
  readonly name = 'standard'
  readonly opening: Buffer
  constructor (private readonly multipart: Multipart, preamble: boolean) {
    this.opening = streamOpening(multipart.opening, preamble)
  }

  write (sink: Sink, part: EncodedPart): number {
    return sink.writeAll(part.standard)
  }

  closing (lastPart: EncodedPart | undefined): Buffer[] {
    if (lastPart === undefined) return [EMPTY_HEADER_BLOCK, this.multipart.close]
    return [lastPart.head, lastPart.body, this.multipart.close]
  }
}

/**
 * Body, then the delimiter with the next header block; the first block, of the route's type, is in the opening.
 * Before a body of another type than the last block announced: that part ended empty and this one announced.
 */
class AdvanceFraming implements Framing {
  readonly name = 'advance'
  readonly opening: Buffer
  /** The type the last header block sent announced. */
  private announced: Announce
  constructor (private readonly multipart: Multipart, preamble: boolean, type: string) {
    this.announced = multipart.announce(type)
    this.opening = streamOpening(this.announced.opening, preamble)
  }

  write (sink: Sink, part: EncodedPart): number {
    const { announce, advance } = part
    if (this.announced === announce) return sink.writeAll(advance)
    this.announced = announce
    // A part of a new type is rare, and its own array keeps it one write, one chunk when the sink chunks.
    return sink.writeAll([announce.next, ...advance])
  }

  closing (lastPart: EncodedPart | undefined): Buffer[] {
    const { close } = this.multipart
    // No part sent: the one the opening announced ends empty.
    if (lastPart === undefined) return [close]
    const { announce } = lastPart
    // The part's header block is out already when it announced this type.
    if (this.announced === announce) return [lastPart.body, close]
    return [announce.next, lastPart.body, close]
  }
}

/** Each framing's layout, by name. */
const LAYOUTS: Readonly<Record<FramingName, new (multipart: Multipart, preamble: boolean, type: string) => Framing>> = {
  standard: StandardFraming,
  advance: AdvanceFraming
}

/**
 * A new viewer's layout in framing `name` for a route's boundary and part type, opening with the `preamble` a
 * browser that renders the stream needs (streamOpening).
 */
export function framing (name: FramingName, multipart: Multipart, type: string, preamble: boolean): Framing {
  return new LAYOUTS[name](multipart, preamble, type)
}
