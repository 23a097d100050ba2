// The slow-link cases' clock: frames published at a fixed rate, each numbered, and when each was made, so that a
// viewer in the same process can say how many frames came after the one it just received (its lag in frames) and
// how old the picture is (one clock for both ends). A pull route's frames are made by the route, per viewer, when
// it asks: each viewer has its own count.
import { performance } from 'node:perf_hooks'

/** Where a part's number is counted: the frames made so far, and when frame `seq` was made. */
export class Origin {
  /** The number of the last frame made; the first is 1. */
  made = 0
  /** When each frame was made (performance.now()), by number. */
  times = [0]

  /** Counts a new frame and returns its number. */
  make () {
    this.times.push(performance.now())
    return ++this.made
  }

  /** Frames made after frame `seq`: 0 when it is the newest. */
  lag (seq) {
    return this.made - seq
  }

  /** Seconds since frame `seq` was made. */
  age (seq) {
    return (performance.now() - this.times[seq]) / 1000
  }
}

/** The live frames at `fps`, and one `Origin` per pull viewer. */
export class Clock {
  live = new Origin()
  pulls = new Map()

  constructor (fps) {
    this.fps = fps
  }

  /** Pull viewer `view`'s origin, made on first use. */
  pull (view) {
    let origin = this.pulls.get(view)
    if (origin === undefined) {
      origin = new Origin()
      this.pulls.set(view, origin)
    }
    return origin
  }

  /**
   * Publishes `total` frames, calling `tick(seq)` for each; resolves after the last one. A tick that comes late
   * (the process was busy) does not make up for the frames it missed: a burst of them would count as lag what
   * was only the machine's load.
   */
  run (total, tick) {
    const period = 1000 / this.fps
    return new Promise((resolve) => {
      let due = performance.now()
      const next = () => {
        tick(this.live.make())
        if (this.live.made >= total) return resolve()
        due = Math.max(due + period, performance.now() - period / 2)
        setTimeout(next, Math.max(0, due - performance.now()))
      }
      next()
    })
  }
}
