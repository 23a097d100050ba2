// How many parts a peer sends within a second, against its limit: an upstream a relay reads, an ingest route's
// publisher. The clock is read once per `max` parts, never per part.
import { performance } from 'node:perf_hooks'

/** Parts counted against `max` a second, from a moment on. */
export class PartRate {
  private counted = 0

  /** @param from when the count starts (performance.now()). */
  constructor (private readonly max: number, private from = performance.now()) {}

  /** Counts one part: false when it is more than `max` within a second of the count's start, which then starts over. */
  count (): boolean {
    if (++this.counted <= this.max) return true
    const now = performance.now()
    if (now - this.from < 1000) return false
    this.counted = 1
    this.from = now
    return true
  }
}
