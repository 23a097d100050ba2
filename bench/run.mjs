// One run of the benchmark: every scenario against the plugin, the raw node:net ceiling and the tutorial
// pattern, on the same machine and the same frames; prints a table. Run with `npm run bench`.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { median, pin } from './common.mjs'

const SCENARIOS = [
  { name: '100 viewers, 30 fps, 50 KB', readers: 100, stalled: 0, fps: 30, size: 50_000, seconds: 8 },
  { name: '500 viewers, 10 fps, 20 KB', readers: 500, stalled: 0, fps: 10, size: 20_000, seconds: 8 },
  { name: '20 reading + 20 stalled, 30 fps, 200 KB', readers: 20, stalled: 20, fps: 30, size: 200_000, seconds: 15 },
  { name: '10 viewers, 200 fps, 20 KB', readers: 10, stalled: 0, fps: 200, size: 20_000, seconds: 8 },
  // The plugin over HTTP/1.1 against itself over h2c, the 100 viewers as streams on 10 connections and on 100.
  {
    name: '100 viewers, 30 fps, 50 KB, HTTP/2',
    readers: 100,
    stalled: 0,
    fps: 30,
    size: 50_000,
    seconds: 8,
    servers: ['plugin', 'plugin h2 × 10', 'plugin h2 × 100'],
    baseline: 'plugin'
  }
]
const SERVERS = process.env.SERVERS?.split(',') ?? ['plugin', 'raw', 'tutorial']

/** What runs for a server's name: its script, and how many HTTP/2 connections the viewers share (0: HTTP/1.1). */
function variant (server) {
  const [script, http2, sessions] = server.split(' ')
  return { script, sessions: http2 === 'h2' ? Number(sessions.slice(2)) : 0 }
}
const WARMUP_MS = 2000
// Each server runs ROUNDS times per scenario, the three in turn, and every figure is the median; "vs raw" is the
// median of each round's ratio to the raw server run next to it. One run alone swings by 10-30% here.
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const only = process.argv[2]

async function measure (server, scenario) {
  const { script, sessions } = variant(server)
  const config = { fps: scenario.fps, size: scenario.size, count: 30 }
  const serverProcess = fork(new URL(`./servers/${script}.mjs`, import.meta.url), [JSON.stringify({ ...config, http2: sessions > 0 })], { stdio: 'inherit', execArgv: ['--expose-gc'] })
  pin(serverProcess, 0)
  const [{ port }] = await once(serverProcess, 'message')
  const load = fork(new URL('./load.mjs', import.meta.url), [JSON.stringify({ ...config, port, readers: scenario.readers, stalled: scenario.stalled, sessions })], { stdio: 'inherit' })
  pin(load, 1)
  await once(load, 'message')
  await sleep(WARMUP_MS)
  serverProcess.send('start')
  load.send('start')
  await sleep(scenario.seconds * 1000)
  load.send('stop')
  serverProcess.send('stop')
  const [[loaded], [served]] = await Promise.all([once(load, 'message'), once(serverProcess, 'message')])
  const ideal = scenario.readers * scenario.fps * scenario.seconds
  return {
    delivered: loaded.parts / ideal,
    cpuPer1000: loaded.parts === 0 ? Infinity : served.cpuMs / loaded.parts * 1000,
    rssPeakMb: served.rssPeak / 2 ** 20,
    rssGrowthMb: (served.rssEnd - served.rssStart) / 2 ** 20,
    rssWindowMb: (served.rssEnd - served.rssWindow) / 2 ** 20,
    corrupt: loaded.corrupt,
    minPerViewer: loaded.minPerViewer / (scenario.fps * scenario.seconds),
    p99Ms: loaded.p99Ms,
    p50Ms: loaded.p50Ms
  }
}

const pct = (x) => `${(x * 100).toFixed(1)}%`
const num = (x, digits = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits))
console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores, median of ${ROUNDS} rounds per server\n`)
console.log('| scenario | server | delivered (% of ideal) | slowest reader | CPU ms / 1000 parts | vs baseline | peak RSS MB | RSS growth MB: whole run / window | latency p50 / p99 ms | corrupt |')
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')

for (const scenario of SCENARIOS.filter((s, i) => only === undefined || String(i + 1) === only)) {
  // A scenario may name its own servers, and the one the others are compared with; else SERVERS, against raw.
  const servers = scenario.servers ?? SERVERS
  const baseline = scenario.baseline ?? 'raw'
  const runs = Object.fromEntries(servers.map((server) => [server, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of servers) runs[server].push(await measure(server, scenario))
    for (const server of servers) runs[server][round].vsBaseline = runs[server][round].cpuPer1000 / runs[baseline]?.[round].cpuPer1000
  }
  const results = {}
  for (const server of servers) {
    results[server] = Object.fromEntries(Object.keys(runs[server][0]).map((key) =>
      [key, key === 'corrupt' ? runs[server].reduce((sum, r) => sum + r.corrupt, 0) : median(runs[server].map((r) => r[key]))]))
  }
  for (const server of servers) {
    const r = results[server]
    console.log(`| ${scenario.name} | ${server} | ${pct(r.delivered)} | ${pct(r.minPerViewer)} | ${num(r.cpuPer1000)} | ${num(r.vsBaseline, 2)}x vs ${baseline} | ` +
      `${num(r.rssPeakMb)} | ${num(r.rssGrowthMb)} / ${num(r.rssWindowMb)} | ${num(r.p50Ms, 2)} / ${num(r.p99Ms, 2)} | ${r.corrupt} |`)
  }
}
