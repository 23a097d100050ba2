// A stream fed by its own iterator: pulls a frame, writes it, waits for the sink and the pace, pulls the next.
// Written as callbacks on one state rather than an async loop: a synchronous source (files, a frame function)
// costs no promise per part, and each wait is one timer, or one wait on the sink, that the stream's end calls off.
import { performance } from 'node:perf_hooks'
import { isThenable, stopIterator } from './async.js'
import type { FrameIterator } from './sources/function.js'
import { PushStream, type EndReason, type StreamContext } from './stream.js'
import type { EncodedPart } from './wire.js'

/** What a pull stream is made with, besides its context: its frames, and how one becomes a part. */
export interface PullFeed {
  /** Makes this connection's frame iterator; gets the stream's abort signal. */
  readonly open: (signal: AbortSignal) => FrameIterator
  /** The part bytes of what the iterator yielded; throws FST_SERVER_PUSH_BAD_FRAME when it is not a frame. */
  readonly encode: (value: unknown) => EncodedPart
}

/** Where a pending step's outcome goes: the stream while it waits for it, nothing once it has ended. */
interface StepTarget { stream: PullStream | undefined }

/**
 * The handlers of one stream's pending steps, made once per stream. Their own scope holds `target` alone, so
 * that a step that never settles keeps nothing of a viewer that has gone.
 */
function stepHandlers (target: StepTarget): [(step: unknown) => void, (error: unknown) => void] {
  return [(step) => target.stream?.fulfilled(step), (error) => target.stream?.rejected(error)]
}

export class PullStream extends PushStream {
  private readonly controller = new AbortController()
  private iterator: FrameIterator | undefined
  /** When the next pull is due. */
  private due = -Infinity
  private timer: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined
  /** The part pulled and not written yet: the sink was full. */
  private held: EncodedPart | undefined
  /** A step is a promise not settled yet: its first outcome is taken, any later one (a thenable calling back twice) is not. */
  private stepPending = false
  private readonly target: StepTarget = { stream: this }
  private readonly handlers = stepHandlers(this.target)

  constructor (
    context: StreamContext,
    private readonly feed: PullFeed
  ) {
    super(context)
  }

  protected run (): void {
    try {
      this.iterator = this.feed.open(this.controller.signal)
    } catch (error) {
      return this.fail(error)
    }
    this.advance(true)
  }

  /** Tells the source to stop, so its `finally` blocks run; what it says then is only logged. */
  protected stop (reason: EndReason): void {
    const { iterator, log, route } = this
    clearTimeout(this.timer)
    clearImmediate(this.immediate)
    this.sink.stopWaitingForRoom()
    this.target.stream = undefined
    this.controller.abort(new Error(`server push stream ended: ${reason}`))
    if (reason === 'source-ended') return
    stopIterator(iterator, (err) => log.warn({ err, route: route.path }, 'server push source failed to stop'))
  }

  /**
   * Pulls the next frame once the sink has taken the last part and the route's gap has passed. After a part,
   * the next pull waits for the next turn of the event loop at least (`newTurn` says whether this is one), so
   * that a source that never waits cannot starve other clients and I/O.
   */
  private advance (newTurn: boolean): void {
    if (this.sink.full()) return this.waitForRoom()
    const now = performance.now()
    const { due } = this
    // Timers count from the event loop's cached clock and may fire a little early: a wake before `due` waits again.
    if (now < due) {
      this.timer = setTimeout(this.paced, due - now)
      return
    }
    if (!newTurn) {
      this.immediate = setImmediate(this.paced)
      return
    }
    // Pulls keep to a schedule, so that timers firing late (by a millisecond, each) do not add up to a lower
    // rate: the next one is due a gap after this one was. One more than half a gap late (a slow client or
    // source) starts the schedule again from now: two pulls are never closer than half a gap.
    const gap = this.gapMs
    this.due = (now - due > gap / 2 ? now : due) + gap
    try {
      const step = (this.iterator as FrameIterator).next()
      if (isThenable(step)) {
        this.stepPending = true
        step.then(...this.handlers)
        return
      }
      // A source can end its own stream while it makes a frame (it closes the route, say).
      if (!this.ended) this.stepped(step)
    } catch (error) {
      this.sourceFailed(error)
    }
  }

  /** A step that was a promise gave `step`. @internal */
  fulfilled (step: unknown): void {
    if (!this.stepPending) return
    this.stepPending = false
    this.stepped(step)
  }

  /** A step that was a promise rejected. @internal */
  rejected (error: unknown): void {
    if (!this.stepPending) return
    this.stepPending = false
    this.sourceFailed(error)
  }

  /** The iterator's step: ends the stream, or writes its frame and goes on. */
  private stepped (step: unknown): void {
    let part: EncodedPart
    try {
      if (typeof step !== 'object' || step === null) throw new TypeError('the source iterator\'s next() returned a non-object')
      const { done, value } = step as IteratorResult<unknown>
      if (done === true) return this.end('source-ended')
      part = this.feed.encode(value)
    } catch (error) {
      return this.sourceFailed(error)
    }
    this.held = part
    this.writeHeld()
  }

  /**
   * Writes the part pulled, then goes on; or waits for room first. An idle repeat, or other streams of the
   * connection, may have filled the sink while the source was thinking; the last check and the write are in one
   * tick, so that streams woken together cannot all pass it.
   */
  private writeHeld (): void {
    if (this.sink.full()) return this.waitForRoom()
    const part = this.held as EncodedPart
    this.held = undefined
    this.send(part)
    this.advance(false)
  }

  /** The iterator threw, rejected or gave something that is not a frame; it may have ended the stream first. */
  private sourceFailed (error: unknown): void {
    if (!this.ended) this.fail(error)
  }

  private waitForRoom (): void {
    this.sink.whenRoom(this.roomMade)
  }

  private readonly roomMade = (): void => {
    if (this.held === undefined) this.advance(true)
    else this.writeHeld()
  }

  private readonly paced = (): void => {
    this.timer = undefined
    this.immediate = undefined
    this.advance(true)
  }
}
