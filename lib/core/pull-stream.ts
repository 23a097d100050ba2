// A stream fed by its own iterator: pulls a frame, writes it, waits for the sink and the pace, pulls the next.
import { performance } from 'node:perf_hooks'
import { isThenable, nextTurn, settle, sleep, stopIterator, waitFor } from './async.js'
import type { FrameIterator } from './sources/function.js'
import { sinkFull, stopWaitingForRoom, whenRoom } from './sink.js'
import { PushStream, type EndReason, type StreamContext } from './stream.js'
import type { EncodedPart } from './wire.js'

/** What a pull stream is made with, besides its context: its frames, and how one becomes a part. */
export interface PullFeed {
  /** Makes this connection's frame iterator; gets the stream's abort signal. */
  readonly open: (signal: AbortSignal) => FrameIterator
  /** The part bytes of what the iterator yielded; throws FST_SERVER_PUSH_BAD_FRAME when it is not a frame. */
  readonly encode: (value: unknown) => EncodedPart
}

export class PullStream extends PushStream {
  private readonly controller = new AbortController()
  private iterator: FrameIterator | undefined
  private lastPullAt = -Infinity

  constructor (
    context: StreamContext,
    private readonly feed: PullFeed
  ) {
    super(context)
  }

  protected run (): void {
    this.pump() // settles only after handling its own errors
  }

  /** Tells the source to stop, so its `finally` blocks run; what it says then is only logged. */
  protected stop (reason: EndReason): void {
    const { iterator, log, route } = this
    this.controller.abort(new Error(`server push stream ended: ${reason}`))
    if (reason === 'source-ended') return
    stopIterator(iterator, (err) => log.warn({ err, route: route.path }, 'server push source failed to stop'))
  }

  private async pump (): Promise<void> {
    const { feed } = this
    const { signal } = this.controller
    try {
      const iterator = this.iterator = feed.open(signal)
      for (;;) {
        // The next frame is pulled only once the sink has taken the last part.
        await this.room(signal)
        await this.pace(signal)
        if (this.ended) return
        this.lastPullAt = performance.now()
        const step = await this.pull(iterator, signal)
        if (this.ended) return
        if (typeof step !== 'object' || step === null) throw new TypeError('the source iterator\'s next() returned a non-object')
        if (step.done === true) return this.end('source-ended')
        const part = feed.encode(step.value)
        // An idle repeat, or other streams of the connection, may have filled it while the source was thinking.
        // The last check and the write are in one tick, so that streams woken together cannot all pass it.
        while (sinkFull(this.sink)) {
          await this.room(signal)
          if (this.ended) return
        }
        this.send(part)
      }
    } catch (error) {
      if (!this.ended) this.fail(error)
    }
  }

  /** Waits until the sink may have room (check it again). */
  private async room (signal: AbortSignal): Promise<void> {
    const { sink } = this
    if (!sinkFull(sink)) return
    await waitFor(signal, (wake) => {
      whenRoom(sink, wake)
      return () => stopWaitingForRoom(sink, wake)
    })
  }

  /** Waits out the rest of the route's gap since the last pull, or one turn of the event loop at least, so that
   * a source that never waits cannot starve other clients and I/O. */
  private async pace (signal: AbortSignal): Promise<void> {
    const due = this.lastPullAt + this.route.minGapMs
    if (performance.now() >= due) return waitFor(signal, nextTurn)
    // Timers count from the event loop's cached clock and may fire a little early: wait until `due` has passed.
    while (!signal.aborted && performance.now() < due) await waitFor(signal, sleep(due - performance.now()))
  }

  /** The iterator's next step; gives up waiting (with `undefined`) when the stream ends first. */
  private async pull (iterator: FrameIterator, signal: AbortSignal): Promise<IteratorResult<unknown> | undefined> {
    const step = iterator.next()
    if (!isThenable(step)) return step
    const outcome = await settle(step, signal)
    if (outcome === undefined) return undefined
    if ('error' in outcome) throw outcome.error
    return outcome.value
  }
}
