// One slow-link case, in this process: a server, its viewers, the frames published at a steady rate, the link's
// rate changed between phases, and what each view received. The test fixture and the bench both run cases
// through this, so that what the tests assert and what the bench prints are the same measure.
import { Clock } from './clock.mjs'
import { congestionControl, setCongestionControl, setRate, setSysctlLowat } from './link.mjs'
import { phasesOf, View } from './record.mjs'
import { startServer } from './servers.mjs'
import { http1Viewer, http2Wall } from './viewers.mjs'

const LINUX_DEFAULT_LOWAT = 4294967295
// Enough parts after a stall to see the end of what the viewer's own receive buffer held meanwhile.
const AFTER_STALL = 80

/**
 * @typedef {object} CaseConfig
 * @property {'plugin' | 'raw'} server the plugin, or the raw latest-frame-wins server of the protocol
 * @property {string} [dist] the plugin's build to load (default: this checkout's)
 * @property {boolean} [lowat] TCP_NOTSENT_LOWAT of 16 KiB on the raw servers' sockets
 * @property {boolean} [queue] the raw HTTP/1.1 server writes every frame: a backlog, for a control
 * @property {number} [sysctlLowat] the namespace's tcp_notsent_lowat during the case
 * @property {string} [congestion] the namespace's TCP congestion control (default: the host's)
 * @property {'http1' | 'http2'} protocol
 * @property {'live' | 'html' | 'pull'} route
 * @property {number} viewers HTTP/1.1 connections, or streams on one HTTP/2 session
 * @property {number} fps
 * @property {number} size bytes of each frame
 * @property {number} warmup frames published before the first phase counts
 * @property {{ rate: number, frames: number }[]} phases the link's rate (bit/s) for that many frames each
 * @property {{ at: number, frames: number, receiveBuffer?: number }} [stall] the first viewer stops reading at
 *   frame `at`, for `frames`; its receive buffer fixed at `receiveBuffer` bytes
 */

/** Opens the case's viewers: each a `View` and the way to pause, resume and close it. */
async function openViewers ({ protocol, route, viewers, stall }, port, clock) {
  const views = Array.from({ length: viewers }, (_, index) => new View(route === 'pull' ? clock.pull(index) : clock.live, clock))
  const paths = views.map((_, index) => route === 'pull' ? `/pull?view=${index}` : `/${route}`)
  if (protocol === 'http2') {
    const wall = await http2Wall(port, paths, (index, headers) => views[index].arrived(headers))
    return { views, connections: [wall] }
  }
  const connections = await Promise.all(paths.map((path, index) =>
    http1Viewer(port, path, (headers) => views[index].arrived(headers), index === 0 ? stall?.receiveBuffer : undefined)))
  return { views, connections }
}

/**
 * The first parts a stalled view got once it read again (at frame `resumed`): each one's number, whether it was
 * published before the viewer read again (held in a buffer on the way meanwhile), its lag, its age, and the
 * seconds since the viewer read again.
 */
function afterStall (view, resumed, times) {
  return view.parts.filter(({ at }) => at >= resumed).slice(0, AFTER_STALL).map(({ seq, lag, age, time }) => ({
    seq,
    held: seq < resumed,
    lag,
    age,
    after: (time - times[resumed]) / 1000
  }))
}

/** Runs `config` (a CaseConfig) and resolves with what each view received, phase by phase. */
export async function runCase (config) {
  const { fps, warmup, phases, stall, sysctlLowat, congestion } = config
  const clock = new Clock(fps)
  const hostCongestion = congestionControl()
  if (congestion !== undefined) setCongestionControl(congestion)
  setRate(phases[0].rate)
  if (sysctlLowat !== undefined) setSysctlLowat(sysctlLowat)
  const server = await startServer({ ...config, clock })
  const { views, connections } = await openViewers(config, server.port, clock)
  const bounds = []
  let to = warmup
  for (const { rate, frames } of phases) {
    bounds.push({ from: to, to: to + frames, rate })
    to += frames
  }
  try {
    await clock.run(to, (seq) => {
      const next = bounds.find(({ from }, index) => index > 0 && from === seq - 1)
      if (next !== undefined) setRate(next.rate)
      if (stall?.at === seq) connections[0].pause()
      if (stall !== undefined && stall.at + stall.frames === seq) connections[0].resume()
      if (config.route !== 'pull') server.publish(seq)
    })
  } finally {
    for (const connection of connections) connection.close()
    await server.close()
    if (sysctlLowat !== undefined) setSysctlLowat(LINUX_DEFAULT_LOWAT)
    if (congestion !== undefined) setCongestionControl(hostCongestion)
  }
  return {
    congestion: congestion ?? hostCongestion,
    published: clock.live.made,
    views: views.map((view) => ({
      received: view.received,
      phases: phasesOf(view, bounds, clock.live.times),
      afterStall: stall === undefined ? undefined : afterStall(view, stall.at + stall.frames, clock.live.times)
    }))
  }
}
