// A route showing a live source: its channel encodes each frame once for the route and hands the same part to
// every viewer's stream; the source pushes, and a viewer that is still busy skips straight to the newest frame
// once it can take one. At most one frame waits for a viewer in user space, and that one is shared. While the
// source is offline, the route's offline part (encoded once per outage) stands in for a frame.
import { performance } from 'node:perf_hooks'
import { events } from '../events.js'
import { encodeFrame, type PartFormat } from '../frame.js'
import { offlineHeaders, printableTime, type OfflineFrame } from '../offline.js'
import { PushStream, type EndReason, type StreamContext } from '../stream.js'
import type { EncodedPart } from '../wire.js'
import type { LiveHub, LiveSubscriber, PublishedFrame } from './source.js'

/** One route showing a live source: encodes each frame once for the route's boundary and hands the same part to
 * every viewer of the route, whatever its framing. */
export class LiveChannel implements LiveSubscriber {
  private readonly viewers = new Set<LiveStream>()
  private cached: { seq: number, part: EncodedPart, at: number } | undefined
  /** The offline part of the last outage (undefined when the route cannot carry it). */
  private offlineCached: { since: number, part: EncodedPart | undefined } | undefined

  /** @param format the route's parts, and its offline frame (undefined: nothing while the source is offline). */
  constructor (private readonly format: PartFormat & { readonly offlineFrame?: OfflineFrame | undefined }, private readonly hub: LiveHub) {
    hub.subscribe(this)
  }

  encode (frame: PublishedFrame): EncodedPart {
    if (this.cached?.seq !== frame.seq) {
      this.cached = { seq: frame.seq, part: encodeFrame(frame, this.format, frame.extra), at: frame.at }
    }
    return this.cached.part
  }

  deliver (part: EncodedPart): void {
    for (const viewer of this.viewers) viewer.offer(part)
  }

  end (reason: EndReason): void {
    for (const viewer of this.viewers) viewer.end(reason)
  }

  /** When the newest frame's part was published (performance.now()); undefined for another part (an offline one). */
  publishedAt (part: EncodedPart): number | undefined {
    return this.cached?.part === part ? this.cached.at : undefined
  }

  /** Every viewer gets the offline part, as it would a frame: the next frame replaces it. */
  offline (since: number): void {
    const part = this.offlinePart(since)
    if (part !== undefined) this.deliver(part)
  }

  /** The route's offline part for the outage that began at `since`, encoded once for it. */
  private offlinePart (since: number): EncodedPart | undefined {
    const { offlineFrame } = this.format
    if (offlineFrame === undefined) return undefined
    if (this.offlineCached?.since !== since) {
      let part: EncodedPart | undefined
      try {
        part = encodeFrame(offlineFrame(since), this.format, offlineHeaders(since))
      } catch (err) {
        // The route's boundary delimiter in the user's offline frame: once per outage, and the viewers keep
        // the last frame.
        this.hub.log?.error({ err, offlineSince: printableTime(since) }, 'server push offline frame refused, not sent')
      }
      this.offlineCached = { since, part }
    }
    return this.offlineCached.part
  }

  /** The route's app is closing: the source stops feeding it; settles once a producer it stopped has stopped. */
  detach (): Promise<void> {
    this.hub.unsubscribe(this)
    return this.hub.stopped()
  }

  /**
   * Adds a viewer and gives it the latest frame at once, or the offline part while the source is offline; on a
   * closed source, that part ends its stream.
   */
  join (viewer: LiveStream): void {
    this.viewers.add(viewer)
    this.hub.acquire()
    const { latest, closed, offlineSince } = this.hub
    const offline = offlineSince === undefined ? undefined : this.offlinePart(offlineSince)
    if (offline !== undefined) viewer.offer(offline)
    else if (latest !== undefined) viewer.offer(this.encode(latest))
    if (closed) viewer.end('source-ended')
  }

  /** Removes a viewer; one that never joined (gone before its stream started) holds no demand to give back. */
  leave (viewer: LiveStream): void {
    if (this.viewers.delete(viewer)) this.hub.release()
  }
}

/** One viewer's stream of a live route: the newest part, as soon as the viewer can take it. */
export class LiveStream extends PushStream {
  private pending: EncodedPart | undefined
  private nextAt = 0
  private paceTimer: NodeJS.Timeout | undefined
  private awaitingRoom = false

  constructor (context: StreamContext, private readonly channel: LiveChannel) {
    super(context)
  }

  /** Takes the newest frame; one it had not got yet is skipped. */
  offer (part: EncodedPart): void {
    if (this.pending !== undefined) this.route.counters.framesSkipped++
    this.pending = part
    this.flush()
  }

  protected run (): void {
    try {
      this.channel.join(this)
    } catch (error) {
      this.fail(error)
    }
  }

  protected stop (): void {
    clearTimeout(this.paceTimer)
    this.sink.stopWaitingForRoom()
    this.channel.leave(this)
  }

  /** A frame that arrived while the viewer was busy is still the newest one to end on. */
  protected override closingPart (): EncodedPart | undefined {
    return this.pending ?? super.closingPart()
  }

  private readonly flush = (): void => {
    const { pending, gapMs, sink } = this
    if (pending === undefined || this.paceTimer !== undefined || this.awaitingRoom) return
    // A wait only when a frame has to wait for the sink, not one per part.
    if (sink.full()) {
      this.awaitingRoom = true
      sink.whenRoom(this.roomMade)
      return
    }
    if (gapMs > 0) {
      const now = performance.now()
      if (now < this.nextAt) {
        this.paceTimer = setTimeout(this.paced, this.nextAt - now)
        return
      }
      this.nextAt = now + gapMs
    }
    this.pending = undefined
    this.send(pending)
    if (events.partSend.hasSubscribers) this.sent(pending)
  }

  /** Tells the part's age at its write: a viewer's newest part is its channel's newest frame, or an offline part. */
  private sent (part: EncodedPart): void {
    const at = this.channel.publishedAt(part)
    if (at !== undefined) events.partSend.publish({ route: this.route.path, ageMs: performance.now() - at })
  }

  private readonly roomMade = (): void => {
    this.awaitingRoom = false
    this.flush()
  }

  private readonly paced = (): void => {
    this.paceTimer = undefined
    this.flush()
  }
}
