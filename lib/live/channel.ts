// One route showing a live source: encodes each frame once for the route's boundary and hands the same part to
// every viewer of the route.
import { encodeFrame } from '../frame.js'
import type { EndReason } from '../stream.js'
import type { EncodedPart } from '../wire.js'
import type { LiveSource, LiveSubscriber, PublishedFrame } from './source.js'
import type { LiveRoute, LiveViewer } from './viewer.js'

export class LiveChannel implements LiveSubscriber {
  private readonly viewers = new Set<LiveViewer>()
  private cached: { seq: number, part: EncodedPart } | undefined

  constructor (private readonly route: LiveRoute, private readonly source: LiveSource) {
    source.subscribe(this)
  }

  encode (frame: PublishedFrame): EncodedPart {
    if (this.cached?.seq !== frame.seq) {
      const { route } = this
      this.cached = { seq: frame.seq, part: encodeFrame(frame, route.contentType, route.framing, frame.extra) }
    }
    return this.cached.part
  }

  deliver (part: EncodedPart): void {
    for (const viewer of this.viewers) viewer.offer(part)
  }

  end (reason: EndReason, error?: unknown): void {
    for (const viewer of this.viewers) viewer.end(reason, error)
  }

  /** Adds a viewer and gives it the latest frame at once; on a closed source, that frame ends its stream. */
  join (viewer: LiveViewer): void {
    this.viewers.add(viewer)
    this.source.acquire()
    const { latest, closed } = this.source
    if (latest !== undefined) viewer.offer(this.encode(latest))
    if (closed) viewer.end('source-ended')
  }

  leave (viewer: LiveViewer): void {
    this.viewers.delete(viewer)
    this.source.release()
  }
}
