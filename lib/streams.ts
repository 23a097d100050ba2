// The open streams of one plugin registration: ended together when the server closes, and watched together,
// by one timer, for clients that stopped reading and sources that went quiet (a timer per stream and part
// would cost on the hot path).
import { performance } from 'node:perf_hooks'
import { noop, type Arm } from './async.js'
import type { Stream } from './stream.js'

export class OpenStreams {
  /** Set by preClose: a request still in its hooks then must not start a stream that nothing would end. */
  closing = false
  private readonly streams = new Set<Stream>()
  private timer: NodeJS.Timeout | undefined
  /** What waits for the server to close (snapshot requests): a set, not listeners on a shared emitter. */
  private readonly closingWaiters = new Set<() => void>()

  /** `checkEveryMs`: how often to watch the streams; 0 = never (no route has a stall timeout or idle repeat). */
  constructor (private readonly checkEveryMs: number) {}

  add (stream: Stream): void {
    this.streams.add(stream)
    if (this.timer === undefined && this.checkEveryMs > 0) {
      this.timer = setInterval(this.check, this.checkEveryMs).unref()
    }
  }

  delete (stream: Stream): void {
    this.streams.delete(stream)
    if (this.streams.size === 0) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  /** Calls `wake` once the server starts closing (soon, if it has): a snapshot request stops waiting. */
  readonly whenClosing: Arm = (wake) => {
    if (this.closing) {
      queueMicrotask(wake)
      return noop
    }
    this.closingWaiters.add(wake)
    return () => this.closingWaiters.delete(wake)
  }

  /** Ends every stream: the server is closing. */
  close (): void {
    this.closing = true
    for (const wake of this.closingWaiters) wake()
    for (const stream of this.streams) stream.end('server-closing')
  }

  private readonly check = (): void => {
    const now = performance.now()
    for (const stream of this.streams) stream.watch(now)
  }
}
