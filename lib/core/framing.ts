// How parts are laid out for one viewer, in one place: which framing a request gets, and the bytes of each part
// and of the close in that framing.
import type { IncomingHttpHeaders } from 'node:http'
import { FST_SERVER_PUSH_BAD_FRAMING } from './errors.js'
import type { Sink } from './sink.js'
import type { Announce, EncodedPart, Multipart } from './wire.js'

/**
 * How parts are laid out for one viewer. `standard`: each part has its own header block with Content-Length,
 * as cameras send it and ffmpeg, VLC or go2rtc expect. `advance`: each body is followed, in the same write, by
 * the delimiter and the next part's header block, because Chromium and WebKit paint a part only once the next
 * part's headers have arrived. That block can only carry a Content-Type, the one of the part just sent; a part
 * of another type first ends the announced one empty and announces its own. The first part's header block, with
 * the route's type, goes out with the opening: WebKitGTK's HTTP/2 reader (libsoup before 3.7.1) crashes or loses
 * streams when it must wait for a header block, but not when it waits for a body.
 */
export type FramingName = 'standard' | 'advance'

/** `auto`: per request, by the kind of client; or one framing for every request. */
export type FramingChoice = 'auto' | FramingName

export const FRAMING_CHOICES: readonly FramingChoice[] = ['auto', 'standard', 'advance']

// What a browser paints itself; `empty` (fetch, XHR) is a script that may well count on Content-Length.
export const RENDERED: ReadonlySet<string> = new Set(['image', 'document', 'iframe', 'frame', 'embed', 'object'])

/**
 * Whether a browser will render the response. Browsers send Sec-Fetch-Dest (Chromium 76+, Firefox 90+, Safari
 * 16.4+); older ones still start their User-Agent with `Mozilla/`, which ffmpeg, VLC, go2rtc and curl do not.
 */
export function rendersItself (headers: IncomingHttpHeaders): boolean {
  return headers['sec-fetch-dest'] === undefined ? headers['user-agent']?.startsWith('Mozilla/') === true : browserRenders(headers)
}

/**
 * Whether the request says it comes from a browser that will render the response (Sec-Fetch-Dest), with no
 * User-Agent guess: such a stream starts with the preamble WebKit needs (Multipart.browserOpening), which
 * ffmpeg and VLC, sometimes given a browser's User-Agent, would reject.
 */
export function browserRenders (headers: IncomingHttpHeaders): boolean {
  const dest = headers['sec-fetch-dest']
  return dest !== undefined && RENDERED.has(dest)
}

/** A bad `?framing=` value as an answer may quote it: a short word, never markup a page could be made of. */
function shown (asked: unknown): string {
  if (Array.isArray(asked)) return `${asked.length} values`
  return typeof asked === 'string' && /^\w{0,20}$/.test(asked) ? JSON.stringify(asked) : 'a value that is neither'
}

/** The framing of one request: its `?framing=` query value, else the route's choice. Throws FST_SERVER_PUSH_BAD_FRAMING. */
export function chooseFraming (choice: FramingChoice, asked: unknown, headers: IncomingHttpHeaders): FramingName {
  if (asked === 'standard' || asked === 'advance') return asked
  if (asked !== undefined) throw new FST_SERVER_PUSH_BAD_FRAMING(shown(asked))
  if (choice !== 'auto') return choice
  return rendersItself(headers) ? 'advance' : 'standard'
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
  constructor (private readonly multipart: Multipart, browser: boolean) {
    this.opening = browser ? multipart.browserOpening : multipart.opening
  }

  write (sink: Sink, part: EncodedPart): number {
    sink.write(part.standard)
    return part.standard.length
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
  constructor (private readonly multipart: Multipart, browser: boolean, type: string) {
    this.announced = multipart.announce(type)
    this.opening = browser ? this.announced.browserOpening : this.announced.opening
  }

  write (sink: Sink, part: EncodedPart): number {
    const { announce, advance } = part
    if (this.announced === announce) {
      sink.write(advance)
      return advance.length
    }
    this.announced = announce
    sink.cork()
    sink.write(announce.next)
    sink.write(advance)
    sink.uncork()
    return announce.next.length + advance.length
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

/**
 * A new viewer's layout in framing `name` for a route's boundary and part type, opening with the preamble for
 * a `browser` that renders the stream (Multipart.browserOpening).
 */
export function framing (name: FramingName, multipart: Multipart, type: string, browser: boolean): Framing {
  return name === 'standard' ? new StandardFraming(multipart, browser) : new AdvanceFraming(multipart, browser, type)
}
