// One run of the benchmark: every scenario against the plugin, the raw node:net ceiling and the tutorial
// pattern, on the same machine and the same frames; prints a table. Last, how many viewers the plugin and the raw
// server each hold before delivery falls below 99%; a table of its own. Run with `npm run bench`.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { pin, spread } from './common.mjs'

const SERVERS = process.env.SERVERS?.split(',')
const DEFAULT_SERVERS = ['plugin', 'raw', 'tutorial']
// MEASURE_SECONDS sets every scenario's window, e.g. a short one to check the bench itself runs; LADDER=500,2500
// the viewer counts of the saturation scenario.
const seconds = (s) => Number(process.env.MEASURE_SECONDS ?? s)
const LADDER = process.env.LADDER?.split(',').map(Number) ?? [500, 1000, 1500, 2000, 2500]
const SCENARIOS = [
  // Also the plugin's pull route (fromDirectory(), paced by intervalMs), compared with its live route too, and the
  // live route with a listener on every lifecycle event, and with its Prometheus metrics scraped every second,
  // each compared with the same route unheard.
  {
    name: '100 viewers, 30 fps, 50 KB',
    readers: 100,
    stalled: 0,
    fps: 30,
    size: 50_000,
    seconds: seconds(8),
    servers: SERVERS ?? ['plugin', 'plugin pull', 'plugin events', 'plugin metrics', 'raw', 'tutorial'],
    compare: [
      { server: 'plugin pull', with: 'plugin', target: 'at most 1.3x, with 100% delivered' },
      { server: 'plugin events', with: 'plugin', target: 'lifecycle events subscribed: within the noise' },
      { server: 'plugin metrics', with: 'plugin', target: 'Prometheus metrics registered and scraped: within the noise' }
    ]
  },
  { name: '500 viewers, 10 fps, 20 KB', readers: 500, stalled: 0, fps: 10, size: 20_000, seconds: seconds(8) },
  { name: '20 reading + 20 stalled, 30 fps, 200 KB', readers: 20, stalled: 20, fps: 30, size: 200_000, seconds: seconds(15) },
  { name: '10 viewers, 200 fps, 20 KB', readers: 10, stalled: 0, fps: 200, size: 20_000, seconds: seconds(8) },
  // The plugin over HTTP/1.1 against itself over h2c, the 100 viewers as streams on 10 connections and on 100.
  {
    name: '100 viewers, 30 fps, 50 KB, HTTP/2',
    readers: 100,
    stalled: 0,
    fps: 30,
    size: 50_000,
    seconds: seconds(8),
    servers: ['plugin', 'plugin h2 × 10', 'plugin h2 × 100'],
    baseline: 'plugin'
  },
  // Saturation: each ladder step, both servers in turn, every round. Every step is measured, also after one fell
  // below 99%, so that the top step's figures always exist; and once only (no second try below 99%, unlike
  // bench/redis.mjs): the rounds take the noise, and a second try at falling steps alone would make those
  // best-of-two against one-of-one elsewhere. The viewers check bodies by sample (load.mjs), so that the load
  // generator keeps up with 2500 × 30 × 50 KB (3.75 GB/s); its CPU is in the table to show whether it did. A
  // measurement takes about 10 s (start, connects, 2 s warm-up, 6 s window): with the default ladder and 3 rounds,
  // 5 × 2 × 3 = 30 of them, about 5 minutes.
  {
    name: 'saturation, 30 fps, 50 KB',
    saturation: true,
    stalled: 0,
    fps: 30,
    size: 50_000,
    seconds: seconds(6),
    servers: ['plugin', 'raw'],
    ladder: LADDER,
    verify: 'sample'
  }
]

/**
 * What runs for a server's name: its script (the name, spaces as dashes: 'plugin pull' is plugin-pull.mjs), and
 * how many HTTP/2 connections the viewers share (a suffix ' h2 × N'; 0: HTTP/1.1).
 */
function variant (server) {
  const h2 = / h2 × (\d+)$/.exec(server)
  return { script: server.slice(0, h2?.index).replaceAll(' ', '-'), sessions: h2 === null ? 0 : Number(h2[1]) }
}
const WARMUP_MS = 2000
// Each server runs ROUNDS times per scenario, the servers in turn, and every figure is the median with the spread
// (min-max) of the rounds; "vs raw" is the median of each round's ratio to the raw server run next to it. One run
// alone swings by 10-30% here.
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const only = process.argv[2]

/**
 * The kernel's TCP counters that tell the viewers' queues outgrew it (Linux; /proc/net/netstat, of the whole
 * network namespace): retransmission timeouts, and packets dropped for want of receive memory. When the viewers
 * fall behind, the parts queued in the loopback sockets (megabytes each) fill the kernel's TCP memory, and from
 * then on delivery measures its drops and 200 ms+ resends, not the server. Undefined elsewhere.
 */
function tcpCounters () {
  try {
    const [names, values] = readFileSync('/proc/net/netstat', 'latin1').split('\n').filter((line) => line.startsWith('TcpExt:')).map((line) => line.split(' '))
    const counters = Object.fromEntries(names.map((name, i) => [name, Number(values[i])]))
    return { timeouts: counters.TCPTimeouts, drops: counters.TCPRcvQDrop }
  } catch {
    return undefined
  }
}

async function measure (server, scenario) {
  const { script, sessions } = variant(server)
  const config = { fps: scenario.fps, size: scenario.size, count: 30 }
  const serverProcess = fork(new URL(`./servers/${script}.mjs`, import.meta.url), [JSON.stringify({ ...config, http2: sessions > 0 })], { stdio: 'inherit', execArgv: ['--expose-gc'] })
  pin(serverProcess, 0)
  const [{ port }] = await once(serverProcess, 'message')
  const load = fork(new URL('./load.mjs', import.meta.url), [JSON.stringify({ ...config, port, readers: scenario.readers, stalled: scenario.stalled, sessions, verify: scenario.verify })], { stdio: 'inherit' })
  pin(load, 1)
  await once(load, 'message')
  serverProcess.send('produce')
  await sleep(WARMUP_MS)
  serverProcess.send('start')
  load.send('start')
  const tcpBefore = tcpCounters()
  await sleep(scenario.seconds * 1000)
  const tcpAfter = tcpCounters()
  load.send('stop')
  serverProcess.send('stop')
  const [[loaded], [served]] = await Promise.all([once(load, 'message'), once(serverProcess, 'message')])
  const ideal = scenario.readers * scenario.fps * scenario.seconds
  return {
    parts: loaded.parts,
    delivered: loaded.parts / ideal,
    cpuPer1000: loaded.parts === 0 ? Infinity : served.cpuMs / loaded.parts * 1000,
    serverCpu: served.cpuMs / (scenario.seconds * 1000),
    loadCpu: loaded.cpuMs / (scenario.seconds * 1000),
    loadStallMs: loaded.stallMs,
    rssPeakMb: served.rssPeak / 2 ** 20,
    rssGrowthMb: (served.rssEnd - served.rssStart) / 2 ** 20,
    rssWindowMb: (served.rssEnd - served.rssWindow) / 2 ** 20,
    corrupt: loaded.corrupt,
    minPerViewer: loaded.minPerViewer / (scenario.fps * scenario.seconds),
    p99Ms: loaded.p99Ms,
    p50Ms: loaded.p50Ms,
    tcpTimeouts: tcpBefore && tcpAfter.timeouts - tcpBefore.timeouts,
    tcpDrops: tcpBefore && tcpAfter.drops - tcpBefore.drops
  }
}

const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-')
const num = (digits = 1) => (x) => (Number.isFinite(x) ? x.toFixed(digits) : '-')
const times = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-')
/** One figure of a server's rounds, as median (min-max). */
const figure = (runs, key, format) => spread(runs.map((r) => r[key]), format)
/** Each round's ratio of `key` between two servers' runs, the rounds run side by side. */
const ratios = (runs, other, key) => runs.map((r, round) => r[key] / other[round][key])
const sum = (runs, key) => runs.reduce((total, r) => total + r[key], 0)

/** The scenario's servers, each ROUNDS times, in turn within every round: their runs, by server. */
async function rounds (servers, scenario) {
  const runs = Object.fromEntries(servers.map((server) => [server, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of servers) runs[server].push(await measure(server, scenario))
  }
  return runs
}

/** Rows of the main table for one scenario, and lines about its extra comparisons to print under the table. */
async function fixedLoad (scenario, notes) {
  // A scenario may name its own servers, and the one the others are compared with; else SERVERS, against raw.
  const servers = scenario.servers ?? SERVERS ?? DEFAULT_SERVERS
  const baseline = scenario.baseline ?? 'raw'
  const runs = await rounds(servers, scenario)
  const compare = (scenario.compare ?? []).filter((c) => runs[c.server] !== undefined && runs[c.with] !== undefined)
  for (const server of servers) {
    const r = runs[server]
    const vs = [baseline, ...compare.filter((c) => c.server === server).map((c) => c.with)]
      .filter((other) => runs[other] !== undefined)
      .map((other) => `${spread(ratios(r, runs[other], 'cpuPer1000'), times)} vs ${other}`).join('; ')
    console.log(`| ${scenario.name} | ${server} | ${figure(r, 'delivered', pct)} | ${figure(r, 'minPerViewer', pct)} | ${figure(r, 'cpuPer1000', num(1))} | ${vs || '-'} | ` +
      `${figure(r, 'rssPeakMb', num(1))} | ${figure(r, 'rssGrowthMb', num(1))} / ${figure(r, 'rssWindowMb', num(1))} | ` +
      `${figure(r, 'p50Ms', num(2))} / ${figure(r, 'p99Ms', num(2))} | ${sum(r, 'corrupt')} |`)
  }
  for (const { server, with: other, target } of compare) {
    notes.push(`- ${scenario.name}: ${server} vs ${other}, CPU per part ${spread(ratios(runs[server], runs[other], 'cpuPer1000'), times)} ` +
      `(target: ${target}); delivered ${figure(runs[server], 'delivered', pct)} against ${figure(runs[other], 'delivered', pct)}`)
  }
}

/**
 * The saturation scenario: every ladder step for each server, the servers in turn at each step, ROUNDS times;
 * prints a row per step and server, then each server's summary.
 */
async function saturation (scenario) {
  const { servers, ladder } = scenario
  const baseline = 'raw'
  const top = ladder.at(-1)
  const runs = Object.fromEntries(ladder.map((viewers) => [viewers, Object.fromEntries(servers.map((server) => [server, []]))]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const viewers of ladder) {
      for (const server of servers) runs[viewers][server].push(await measure(server, { ...scenario, readers: viewers }))
    }
  }
  console.log(`\n${scenario.name}: ${ladder.join(', ')} viewers, ${scenario.seconds} s each, bodies checked by sample; ` +
    `${ROUNDS} rounds, median (min-max); CPU in % of one core, server and load generator each pinned to its own\n`)
  console.log('| viewers | server | delivered (% of ideal) | frames vs raw | slowest reader | server CPU | load generator: CPU / longest stall ms | latency p50 / p99 ms | kernel TCP: resend timeouts / drops | corrupt |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const viewers of ladder) {
    for (const server of servers) {
      const r = runs[viewers][server]
      const vs = runs[viewers][baseline] === undefined ? '-' : spread(ratios(r, runs[viewers][baseline], 'parts'), pct)
      console.log(`| ${viewers} | ${server} | ${figure(r, 'delivered', pct)} | ${vs} | ${figure(r, 'minPerViewer', pct)} | ${figure(r, 'serverCpu', pct)} | ` +
        `${figure(r, 'loadCpu', pct)} / ${figure(r, 'loadStallMs', num(0))} | ${figure(r, 'p50Ms', num(2))} / ${figure(r, 'p99Ms', num(2))} | ` +
        `${figure(r, 'tcpTimeouts', num(0))} / ${figure(r, 'tcpDrops', num(0))} | ${sum(r, 'corrupt')} |`)
    }
  }
  // Held in a round: the highest step up to which every step delivered >= 99%, as if climbing the ladder.
  const held = (server, round) => {
    const fell = ladder.findIndex((viewers) => !(runs[viewers][server][round].delivered >= 0.99))
    return fell === -1 ? top : fell === 0 ? 0 : ladder[fell - 1]
  }
  console.log('')
  console.log(`| server | most viewers at >= 99% (every step up to it) | delivered at ${top} | frames at ${top} vs raw | load generator at ${top}: CPU / longest stall ms |`)
  console.log('| --- | --- | --- | --- | --- |')
  for (const server of servers) {
    const r = runs[top][server]
    const most = spread(r.map((_, round) => held(server, round)), (x) => (x === 0 ? `< ${ladder[0]}` : String(x)))
    const vs = runs[top][baseline] === undefined ? '-' : spread(ratios(r, runs[top][baseline], 'parts'), pct)
    console.log(`| ${server} | ${most} | ${figure(r, 'delivered', pct)} | ${vs} | ${figure(r, 'loadCpu', pct)} / ${figure(r, 'loadStallMs', num(0))} |`)
  }
}

const selected = SCENARIOS.filter((s, i) => only === undefined || String(i + 1) === only)
console.log(`node ${process.version}, ${cpus().length} cores, ${ROUNDS} rounds per server, median (min-max) of the rounds\n`)
const notes = []
if (selected.some((s) => !s.saturation)) {
  console.log('| scenario | server | delivered (% of ideal) | slowest reader | CPU ms / 1000 parts | vs baseline | peak RSS MB | RSS growth MB: whole run / window | latency p50 / p99 ms | corrupt |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
}
for (const scenario of selected.filter((s) => !s.saturation)) await fixedLoad(scenario, notes)
if (notes.length > 0) console.log(`\n${notes.join('\n')}`)
for (const scenario of selected.filter((s) => s.saturation)) await saturation(scenario)
