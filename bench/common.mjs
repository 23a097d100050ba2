// What the bench's servers and load generator share: the frames, the producer clock, the IPC protocol; and what
// the bench's scripts share: pinning a process to a core, the median of rounds and their spread.
import { execFileSync } from 'node:child_process'

/** `count` distinct JPEG-shaped frames of `size` bytes: SOI, frame number, a pattern, EOI. */
export function makeFrames (size, count) {
  return Array.from({ length: count }, (_, n) => {
    const frame = Buffer.alloc(size, (n * 37 + 11) & 0xff)
    frame[0] = 0xff
    frame[1] = 0xd8
    frame.writeUInt32BE(n, 2)
    frame[size - 2] = 0xff
    frame[size - 1] = 0xd9
    return frame
  })
}

/** Wall-clock time with microseconds, as the plugin's X-Timestamp writes it. */
export function timestamp () {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000)
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`
}

/**
 * Frame `n` as a camera delivers it: a new buffer every time. (Writing the same few buffers again and again
 * would let a server that queues without limit look bounded: it would only queue references.)
 */
export function capture (frames, n) {
  return Buffer.from(frames[n % frames.length])
}

/** Calls `tick(n)` at `fps`, drift-corrected, until the returned stop function is called. */
export function every (fps, tick) {
  const period = 1000 / fps
  const start = performance.now()
  let n = 0
  let timer
  const next = () => {
    tick(n++)
    timer = setTimeout(next, Math.max(0, start + n * period - performance.now()))
  }
  timer = setTimeout(next, 0)
  return () => clearTimeout(timer)
}

/**
 * The server side of the bench protocol: tells the parent its port, samples RSS, on 'produce' starts the
 * producer (`produce()` returns the function that stops it), on 'start' takes the CPU baseline, and on 'stop'
 * reports CPU used and memory, and exits. The parent says 'produce' once the viewers are connected: a server
 * already streaming to the first thousands answers the next ones slowly (2500 viewers took 30 s to 2 minutes to
 * connect here), and the parts queued meanwhile in the loopback sockets filled the kernel's TCP memory, whose
 * drops and resends stalled the connects further.
 */
export function serve (port, produce = () => () => {}) {
  let stopProducing = () => {}
  let cpu
  // Memory is counted from before the first viewer connects: what the viewers, stalled ones included, cost.
  global.gc()
  const rssStart = process.memoryUsage.rss()
  let rssPeak = rssStart
  let rssWindow = 0
  const sample = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss()) }, 20)
  process.on('message', (message) => {
    if (message === 'produce') {
      stopProducing = produce()
    } else if (message === 'start') {
      global.gc()
      rssWindow = process.memoryUsage.rss()
      cpu = process.cpuUsage()
    } else if (message === 'stop') {
      const used = process.cpuUsage(cpu)
      // RSS growth is what stays after a full collection: memory a server holds on to, not garbage not yet freed.
      global.gc()
      const rssEnd = process.memoryUsage.rss()
      stopProducing()
      clearInterval(sample)
      process.send({ cpuMs: (used.user + used.system) / 1000, rssStart, rssWindow, rssPeak: Math.max(rssPeak, rssEnd), rssEnd }, () => process.exit(0))
    }
  })
  process.send({ port })
}

/** The settings a server gets from the parent, as JSON in argv[2]. */
export function settings () {
  return JSON.parse(process.argv[2])
}

/** Pins a process and all its threads to one core, so that a server and the load generator do not share one. */
export function pin (child, core) {
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(child.pid)], { stdio: 'ignore' })
  } catch {
    // No taskset: the figures are noisier, not wrong.
  }
}

/** The median of the figures that were measured (undefined ones left out); the lower one of an even count. */
export function median (values) {
  const sorted = values.filter((v) => v !== undefined).sort((a, b) => a - b)
  return sorted.length === 0 ? undefined : sorted[Math.floor((sorted.length - 1) / 2)]
}

/**
 * The median of the rounds' figures and their spread, `median (min-max)`, each written by `format`; '-' for a
 * figure that was never measured (undefined ones are left out, as by median()). With a figure below zero (RSS
 * can shrink) the spread reads `(min to max)`, not `(-0.4--0.1)`.
 */
export function spread (values, format = (x) => x.toFixed(2)) {
  const measured = values.filter((v) => v !== undefined)
  if (measured.length === 0) return '-'
  const min = Math.min(...measured)
  return `${format(median(measured))} (${format(min)}${min < 0 ? ' to ' : '-'}${format(Math.max(...measured))})`
}
