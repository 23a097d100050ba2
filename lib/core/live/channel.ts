// One route showing a live source: encodes each frame once for the route's boundary and hands the same part to
// every viewer of the route, whatever its framing.
import { encodeFrame, type PartFormat } from '../frame.js'
import type { EndReason } from '../stream.js'
import type { EncodedPart } from '../wire.js'
import type { LiveHub, LiveSubscriber, PublishedFrame } from './source.js'

/** A viewer of the channel: takes the newest part, and ends with the source. */
export interface LiveReceiver {
  offer (part: EncodedPart): void
  end (reason: EndReason): void
}

export class LiveChannel implements LiveSubscriber {
  private readonly viewers = new Set<LiveReceiver>()
  private cached: { seq: number, part: EncodedPart } | undefined

  constructor (private readonly format: PartFormat, private readonly hub: LiveHub) {
    hub.subscribe(this)
  }

  encode (frame: PublishedFrame): EncodedPart {
    if (this.cached?.seq !== frame.seq) {
      this.cached = { seq: frame.seq, part: encodeFrame(frame, this.format, frame.extra) }
    }
    return this.cached.part
  }

  deliver (part: EncodedPart): void {
    for (const viewer of this.viewers) viewer.offer(part)
  }

  end (reason: EndReason): void {
    for (const viewer of this.viewers) viewer.end(reason)
  }

  /** The route's app is closing: the source stops feeding it; settles once a producer it stopped has stopped. */
  detach (): Promise<void> {
    this.hub.unsubscribe(this)
    return this.hub.stopped()
  }

  /** Adds a viewer and gives it the latest frame at once; on a closed source, that frame ends its stream. */
  join (viewer: LiveReceiver): void {
    this.viewers.add(viewer)
    this.hub.acquire()
    const { latest, closed } = this.hub
    if (latest !== undefined) viewer.offer(this.encode(latest))
    if (closed) viewer.end('source-ended')
  }

  /** Removes a viewer; one that never joined (gone before its stream started) holds no demand to give back. */
  leave (viewer: LiveReceiver): void {
    if (this.viewers.delete(viewer)) this.hub.release()
  }
}
