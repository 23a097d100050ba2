// A stream fed by a live source: the source pushes, and a viewer that is still busy skips straight to the
// newest frame once it can take one. At most one frame waits for it in user space, and that one is shared.
import { performance } from 'node:perf_hooks'
import { PushStream, type StreamContext } from '../stream.js'
import type { EncodedPart } from '../wire.js'
import type { LiveChannel, LiveReceiver } from './channel.js'

export class LiveStream extends PushStream implements LiveReceiver {
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
    this.sink.stopWaitingForRoom(this.roomMade)
    this.channel.leave(this)
  }

  /** A frame that arrived while the viewer was busy is still the newest one to end on. */
  protected override closingPart (): EncodedPart | undefined {
    return this.pending ?? super.closingPart()
  }

  private readonly flush = (): void => {
    const { pending, route, sink } = this
    if (pending === undefined || this.paceTimer !== undefined || this.awaitingRoom) return
    // A listener only when a frame has to wait for the sink, not one per part.
    if (sink.full()) {
      this.awaitingRoom = true
      sink.whenRoom(this.roomMade)
      return
    }
    if (route.minGapMs > 0) {
      const now = performance.now()
      if (now < this.nextAt) {
        this.paceTimer = setTimeout(this.paced, this.nextAt - now)
        return
      }
      this.nextAt = now + route.minGapMs
    }
    this.pending = undefined
    this.send(pending)
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
