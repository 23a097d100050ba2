// A warning that input from outside can cause at will (a message refused, a gap in a numbering, a frame no route
// can carry): logged the first time, then at most once an interval, with how many came since the line before.
import { performance } from 'node:perf_hooks'

/** How often such a warning is logged at most: once a minute. */
export const WARNING_INTERVAL_MS = 60_000

/**
 * Counts occurrences of one warning: the first is logged, then at most one line per `intervalMs`, at the next
 * occurrence, with the count since the line before. However they are interleaved with what goes well, a flood
 * costs one line an interval, and the counters keep the rest.
 */
export class BoundedWarning {
  private loggedAt = -Infinity
  private unlogged = 0

  constructor (private readonly intervalMs = WARNING_INTERVAL_MS) {}

  /** Counts `n` occurrences; returns the count to log now (since the last line, these included), or 0 for none. */
  add (n: number): number {
    this.unlogged += n
    const now = performance.now()
    if (now - this.loggedAt < this.intervalMs) return 0
    this.loggedAt = now
    const count = this.unlogged
    this.unlogged = 0
    return count
  }
}
