// The open streams of one route: ended together when the route closes, and watched together, by one timer, for
// clients that stopped reading and sources that went quiet (a timer per stream and part would cost on the hot
// path).
import { performance } from 'node:perf_hooks'
import type { PushStream } from './stream.js'

export class OpenStreams {
  private readonly streams = new Set<PushStream>()
  private timer: NodeJS.Timeout | undefined

  /** `checkEveryMs`: how often to watch the streams; 0 = never (no stall timeout, no idle repeat). */
  constructor (private readonly checkEveryMs: number) {}

  add (stream: PushStream): void {
    this.streams.add(stream)
    if (this.timer === undefined && this.checkEveryMs > 0) {
      this.timer = setInterval(this.check, this.checkEveryMs).unref()
    }
  }

  delete (stream: PushStream): void {
    this.streams.delete(stream)
    if (this.streams.size === 0) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  /** Ends every stream: the server is closing. */
  close (): void {
    for (const stream of this.streams) stream.end('server-closing')
  }

  private readonly check = (): void => {
    const now = performance.now()
    for (const stream of this.streams) stream.watch(now)
  }
}
