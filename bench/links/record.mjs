// What a slow-link case records of each view, and the figures made of it. A part's lag is how many frames its
// origin made after it by the time it arrived: counted, not timed, so that a busy machine slows both ends alike
// and cannot decide a test. Its age (seconds since it was made) is for the bench.
import { performance } from 'node:perf_hooks'

/** One viewer's stream: each part's number, lag, age and when it arrived (in live frames published so far). */
export class View {
  parts = []
  /** Parts received in all, warm-up included. */
  received = 0

  /** `origin`: where this view's frames are counted; `clock`: the live frames, which date every arrival. */
  constructor (origin, clock) {
    this.origin = origin
    this.clock = clock
  }

  arrived (headers) {
    const seq = Number(headers['x-seq'])
    if (!Number.isInteger(seq) || seq < 1) throw new Error(`a part without its number: ${JSON.stringify(headers)}`)
    this.received++
    this.parts.push({ seq, lag: this.origin.lag(seq), age: this.origin.age(seq), at: this.clock.live.made, time: performance.now() })
  }
}

/** The `p` quantile (0 to 1) of `values`, nearest rank; undefined for none. */
export function quantile (values, p) {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
}

/**
 * A view's parts in each phase of the case (a phase: the live frames `from` (exclusive) to `to`, at one link
 * rate), in arrival order; the warm-up before the first phase is left out. `seconds`: how long the phase lasted.
 */
export function phasesOf (view, phases, times) {
  return phases.map(({ from, to, rate }) => {
    const parts = view.parts.filter(({ at }) => at > from && at <= to)
    return {
      rate,
      frames: to - from,
      seconds: (times[to] - times[from]) / 1000,
      lags: parts.map(({ lag }) => lag),
      ages: parts.map(({ age }) => Math.round(age * 1000) / 1000)
    }
  })
}
