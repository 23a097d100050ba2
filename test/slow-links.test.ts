// Viewers on slow links (issue 24): the server and its viewers run in one process on a loopback limited to a few
// Mbit/s (test/helpers/slow-link.ts), and each part's lag is counted in frames: how many frames were published
// after it by the time it arrived. Counted, not timed, so that a busy machine slows both ends alike and cannot
// decide a test. 30 frames of 50 KB a second: at 4 Mbit/s a part takes a tenth of a second to cross, three
// frames' time, so a part sent as the newest frame arrives a few frames late; one that waits behind megabytes in
// the kernel's send buffer, or behind eleven other streams' parts, arrives tens of frames late.
import t, { type Test } from 'tap'
import { PATIENCE_MS } from './helpers/patience.js'
import { onSlowLink } from './helpers/slow-link.js'

const FPS = 30
const SIZE = 50_000
const MBIT = 1_000_000
// A connection's first seconds on this link (slow start overshooting the link's queue, the first losses and
// retransmissions) are no steady state: measured with the kernel holding at most 16 KiB, parts arrive 20
// frames late for 1 to 2 s, then 4 to 8.
const WARMUP = 90
/**
 * A live route's lag at the 95th percentile on a steady link, in frames: 0.4 s at 30 fps, the issue's target for
 * one viewer (today 40 to 60 over HTTP/1.1, 75 to 93 over HTTP/2). A part sent as the newest frame waits behind
 * at most 16 KiB in the kernel and the link's queue (54 KB at 4 Mbit/s), then crosses in 3 frames' time: measured
 * with the kernel so bounded (and over HTTP/2 with a raw server sending whole parts in turn), p95 7 to 10.
 */
const LIVE_BOUND = 12
/** A pull route's parts made and not yet arrived, at the 95th percentile: measured 2 so bounded, today 9 to 12. */
const PULL_BOUND = 4
/** Parts after a change of the link's rate before the lag is within bound: measured 0 to 3, today 12 to 20. */
const RECOVERY_PARTS = 5

interface Phase {
  /** The link's rate, bit/s. */
  rate: number
  /** Frames published in the phase. */
  frames: number
  /** Each part's lag, in arrival order. */
  lags: number[]
}

interface CaseResult {
  /** The TCP congestion control of the case's connections. */
  congestion: string
  published: number
  views: Array<{ received: number, phases: Phase[] }>
}

/** A case as bench/links/case.mjs takes it. */
interface CaseConfig {
  server: 'plugin' | 'raw'
  queue?: boolean
  congestion?: 'reno'
  protocol: 'http1' | 'http2'
  route: 'live' | 'html' | 'pull'
  viewers: number
  phases: Array<{ rate: number, frames: number }>
}

/** The case started last: the next starts once it has ended. */
let previous: Promise<unknown> = Promise.resolve()

/**
 * Starts `config` on its slow link once the case before it has ended; its result is awaited by a subtest. One at a
 * time, as each case's process publishes and parses 1.5 MB a second: side by side on a busy machine they starved
 * one another, and a viewer's parts waited in its own receive buffer, read late, which counted as lag.
 */
function start (config: CaseConfig): Promise<CaseResult> {
  const frames = WARMUP + config.phases.reduce((sum, { frames }) => sum + frames, 0)
  const result = previous.then(() => onSlowLink(t, 'test/fixtures/slow-link-case.mjs', {
    rate: config.phases[0].rate,
    args: [JSON.stringify({ fps: FPS, size: SIZE, warmup: WARMUP, ...config })],
    // The case's own length at its pace, then the usual patience: a hang detector.
    timeoutMs: frames / FPS * 1000 + PATIENCE_MS
  }) as Promise<CaseResult>)
  // Awaited later, by its subtest: until then a failure must not count as unhandled.
  previous = result.catch(() => {})
  return result
}

const steady = (rate: number, frames = 150): CaseConfig['phases'] => [{ rate: rate * MBIT, frames }]

const cases = {
  oneViewer: start({ server: 'plugin', protocol: 'http1', route: 'live', viewers: 1, phases: steady(4) }),
  // Four at 16 Mbit/s: each one's share is the lone viewer's 4 Mbit/s. (Four at 4 Mbit/s lose packets in the
  // link's 54 KB queue and wait out retransmission timeouts in turn, whatever the server does: measured with
  // the kernel holding at most 16 KiB, one of them got 4 parts in 6 s.)
  fourViewers: start({ server: 'plugin', protocol: 'http1', route: 'live', viewers: 4, phases: steady(16) }),
  cameraWall: start({ server: 'plugin', protocol: 'http2', route: 'live', viewers: 12, phases: steady(4, 240) }),
  html: start({ server: 'plugin', protocol: 'http1', route: 'html', viewers: 1, phases: steady(4) }),
  pull: start({ server: 'plugin', protocol: 'http1', route: 'pull', viewers: 1, phases: steady(4) }),
  // On a loss-based congestion control. This link has no propagation delay, and there BBR (the default of the
  // machines these bounds were measured on) may not find that the link got faster: in 5 runs of 23 here it went
  // on at about 1 Mbit/s for up to 3 s after the link rose to 16, its estimate of the link's rate unchanged (read
  // with ss), likely as at 1 Mbit/s it paces a packet every 12 ms, longer than the 1 ms its probe for more lasts.
  // Reno found it within 3 parts in each of 64 runs. Reno fills the link's queue, which BBR keeps short: the
  // steady cases, measured with BBR, keep the host's default (under reno some ran over their bounds).
  changing: start({
    server: 'plugin',
    congestion: 'reno',
    protocol: 'http1',
    route: 'live',
    viewers: 1,
    phases: [{ rate: 4 * MBIT, frames: 120 }, { rate: 1 * MBIT, frames: 300 }, { rate: 16 * MBIT, frames: 120 }]
  }),
  backlog: start({ server: 'raw', queue: true, protocol: 'http1', route: 'live', viewers: 1, phases: steady(4) })
}

/** The `p` quantile (0 to 1) of `values`, nearest rank. */
function quantile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
}

/** How many parts of 50 KB the link carries for one of `viewers` while `phase` publishes its frames; at most one a frame. */
function linkShare ({ rate, frames }: Phase, viewers: number): number {
  return Math.min(frames, frames * rate / (FPS * SIZE * 8) / viewers)
}

/** Every view got at least half its share of what the link carries: it keeps painting. */
function keepsPainting (t: Test, result: CaseResult, viewers = result.views.length): void {
  result.views.forEach(({ phases }, view) => {
    for (const phase of phases) {
      t.ok(phase.lags.length >= linkShare(phase, viewers) / 2,
        `view ${view} at ${phase.rate / MBIT} Mbit/s (${result.congestion}): ${phase.lags.length} parts, its share of the link ${linkShare(phase, viewers).toFixed(1)}`)
    }
  })
}

/**
 * Every view's lag is within `bound` frames by the first half of its parts, and at the 95th percentile from then
 * on. A viewer that a busy machine kept from reading for a while finds parts waiting in its own receive buffer,
 * which count as lag until it has caught up (measured: 47 frames, down to 5 within 15 parts, as it read them
 * faster than the link brings them); a backlog on the server's side never drains while frames keep coming.
 */
function fresh (t: Test, result: CaseResult, bound: number): void {
  result.views.forEach(({ phases: [phase] }, view) => {
    const { lags } = phase
    const from = lags.findIndex((lag) => lag <= bound)
    const label = `view ${view} (lags ${lags.join(' ')})`
    t.ok(from !== -1 && from <= lags.length / 2, `${label}: within ${bound} frames from part ${from}`)
    if (from === -1) return
    const rest = lags.slice(from)
    t.ok(quantile(rest, 0.95) <= bound, `${label}: lag p95 ${quantile(rest, 0.95)} frames from then on, at most ${bound}`)
  })
}

t.test('HTTP/1.1, one viewer of a live route on a 4 Mbit/s link: each picture at most 12 frames late', async (t) => {
  const result = await cases.oneViewer
  const [phase] = result.views[0].phases
  // The link, not the server, sets the pace: a third of the frames fit through it.
  t.ok(phase.lags.length < phase.frames * 0.6, `${phase.lags.length} parts of ${phase.frames} frames: the link is the limit`)
  keepsPainting(t, result)
  fresh(t, result, LIVE_BOUND)
})

t.test('HTTP/1.1, four viewers on a 16 Mbit/s link: each keeps its share, each picture at most 12 frames late', async (t) => {
  const result = await cases.fourViewers
  t.equal(result.views.length, 4)
  keepsPainting(t, result)
  fresh(t, result, LIVE_BOUND)
})

t.test('HTTP/2, a camera wall of 12 streams on one session at 4 Mbit/s: every view keeps painting, each picture at most 12 frames late', async (t) => {
  const result = await cases.cameraWall
  t.equal(result.views.length, 12)
  keepsPainting(t, result)
  fresh(t, result, LIVE_BOUND)
})

t.test('a text/html route on a 4 Mbit/s link: each page at most 12 frames late', async (t) => {
  const result = await cases.html
  keepsPainting(t, result)
  fresh(t, result, LIVE_BOUND)
})

// A pull route makes a viewer's frame when its stream has room for it, so every frame made is sent: the lag
// counts the parts between the route and the viewer. About one crossing the link and the next one made.
t.test('a pull route on a 4 Mbit/s link: at most 4 parts made and not yet arrived', async (t) => {
  const result = await cases.pull
  keepsPainting(t, result)
  fresh(t, result, PULL_BOUND)
})

// After the link changes, the parts already under way arrive at the old pace; within RECOVERY_PARTS the lag is
// within 5 parts' crossing time at the new rate (a part takes 12 frames' time at 1 Mbit/s; LIVE_BOUND at least).
// From then on its median is within it (not its p95, as in the steady cases): reno (see `changing`) overfills the
// link's small queue every few seconds, and its recovery holds the link up to a second (once 3 s at 1 Mbit/s),
// the raw latest-frame server's as much as this one's: at 4 Mbit/s 2 to 5 parts in a row 19 to 26 frames late,
// the median 7 or 8. A growing backlog, or three parts held at 4 Mbit/s, fails the median; fewer are the steady
// cases' to catch. The 1 Mbit/s phase is 300 frames so that a 3 s hold stays under half its parts.
t.test('a link that drops from 4 to 1 Mbit/s and rises to 16: the lag recovers within a few parts each time and the frame rate follows the link', async (t) => {
  const result = await cases.changing
  keepsPainting(t, result)
  const { phases } = result.views[0]
  for (const phase of phases) {
    const { rate, frames, lags } = phase
    const bound = Math.max(LIVE_BOUND, 5 * frames / linkShare(phase, 1))
    const recovered = lags.findIndex((lag) => lag <= bound)
    const label = `${rate / MBIT} Mbit/s (lags ${lags.join(' ')})`
    t.ok(recovered !== -1 && recovered <= RECOVERY_PARTS, `${label}: within ${bound.toFixed(0)} frames from part ${recovered}`)
    if (recovered === -1) continue
    const rest = lags.slice(recovered)
    t.ok(quantile(rest, 0.5) <= bound, `${label}: lag median after recovering ${quantile(rest, 0.5)}, at most ${bound.toFixed(0)}`)
  }
})

// The control: the same link and measure with a server that writes every frame whatever the socket holds. Its
// backlog must show, or the cases above prove nothing.
t.test('a server queueing every frame on the same link: its backlog shows as a lag far over the bound, growing', async (t) => {
  const result = await cases.backlog
  const { lags } = result.views[0].phases[0]
  t.ok(quantile(lags, 0.95) > 3 * LIVE_BOUND, `lag p95 ${quantile(lags, 0.95)}`)
  t.ok(lags[lags.length - 1] > lags[0] + LIVE_BOUND, `lags ${lags.join(' ')}: growing`)
})
