// Scale-out behind Redis: the publish->viewer latency and the instances' CPU per part at a fixed load, through
// Redis against the plugin serving the camera in its own process; then how many viewers of a 30 fps, 50 KB camera
// one instance and two instances (one per core) serve at >= 99% of ideal delivery, fed through a redis-server
// this script starts. Prints two tables. Run with `npm run bench`, or alone with `node bench/redis.mjs` after
// `npm run build`; needs `redis-server` on the PATH.
import { fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { median, pin, spread } from './common.mjs'

const FPS = 30
const SIZE = 50_000
const SECONDS = Number(process.env.MEASURE_SECONDS ?? 5)
const WARMUP_MS = 2000
const ROUNDS = Number(process.env.ROUNDS ?? 2)
// The fixed load of the latency table: well below what one instance holds here.
const FIXED_VIEWERS = 200
// Viewer counts tried in turn, each about 1.25 times the last, until delivery falls below 99%.
const LADDER = [100, 200, 300, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3200]
const SETUPS = [
  { name: 'in-process (no Redis), 1 process', instances: 1, redis: false },
  { name: 'through Redis, 1 process', instances: 1, redis: true },
  { name: 'through Redis, 2 processes', instances: 2, redis: true }
]

async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  server.close()
  return port
}

async function startRedis () {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  for await (const chunk of child.stdout) {
    output += chunk
    if (output.includes('Ready to accept connections')) break
  }
  child.stdout.resume()
  return { child, url: `redis://127.0.0.1:${port}` }
}

const script = (name) => new URL(`./servers/${name}.mjs`, import.meta.url)

/** One run: `viewers` spread over the setup's instances for SECONDS; delivery and latency as the viewers saw it. */
async function measure (setup, viewers, redisUrl) {
  const config = { fps: FPS, size: SIZE, count: 30, redisUrl }
  const servers = Array.from({ length: setup.instances }, (_, i) => {
    const child = fork(script(setup.redis ? 'redis-viewer' : 'plugin'), [JSON.stringify(config)], { stdio: 'inherit', execArgv: ['--expose-gc'] })
    pin(child, i % cpus().length)
    return child
  })
  const ports = await Promise.all(servers.map(async (child) => (await once(child, 'message'))[0].port))
  const publisher = setup.redis ? fork(script('redis-publisher'), [JSON.stringify(config)], { stdio: 'inherit' }) : undefined
  if (publisher !== undefined) await once(publisher, 'message')
  const load = fork(new URL('./load.mjs', import.meta.url), [JSON.stringify({ ...config, ports, readers: viewers, stalled: 0, sessions: 0 })], { stdio: 'inherit' })
  await once(load, 'message')
  for (const child of [...servers, publisher].filter(Boolean)) child.send('produce')
  await sleep(WARMUP_MS)
  for (const child of [...servers, load]) child.send('start')
  await sleep(SECONDS * 1000)
  load.send('stop')
  for (const child of servers) child.send('stop')
  const [[loaded], ...served] = await Promise.all([once(load, 'message'), ...servers.map((child) => once(child, 'message'))])
  const cpuMs = served.reduce((sum, [{ cpuMs }]) => sum + cpuMs, 0)
  if (publisher !== undefined) {
    publisher.send('stop')
    await once(publisher, 'exit')
  }
  return {
    delivered: loaded.parts / (viewers * FPS * SECONDS),
    cpuPer1000: cpuMs / loaded.parts * 1000,
    p50Ms: loaded.p50Ms,
    p99Ms: loaded.p99Ms,
    corrupt: loaded.corrupt
  }
}

/**
 * Climbs the ladder until delivery falls below 99% twice in a row at one count (a single dip is this machine's
 * noise as often as a limit): the last count that held, and its latencies.
 */
async function saturate (setup, redisUrl) {
  let held
  for (const viewers of LADDER) {
    let run
    for (let attempt = 0; attempt < 2 && !(run?.delivered >= 0.99); attempt++) {
      run = await measure(setup, viewers, redisUrl)
      if (run.corrupt > 0) throw new Error(`${setup.name}: ${run.corrupt} corrupt parts at ${viewers} viewers`)
    }
    if (run.delivered < 0.99) return { held, fell: { viewers, ...run } }
    held = { viewers, ...run }
  }
  return { held, fell: undefined }
}

const redis = await startRedis()
const fixed = Object.fromEntries(SETUPS.map(({ name }) => [name, []]))
const results = Object.fromEntries(SETUPS.map(({ name }) => [name, []]))
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const setup of SETUPS) fixed[setup.name].push(await measure(setup, FIXED_VIEWERS, redis.url))
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const setup of SETUPS) results[setup.name].push(await saturate(setup, redis.url))
  }
} finally {
  redis.child.kill()
}

const num = (x, digits = 2) => (x === undefined ? '-' : x.toFixed(digits))
const heldOf = (name) => results[name].map(({ held }) => held?.viewers ?? 0)
const base = median(heldOf(SETUPS[1].name))
console.log(`\nnode ${process.version}, ${cpus().length} cores; ${FPS} fps, ${SIZE / 1000} KB frames; ${ROUNDS} rounds, each setup in turn; median (spread)\n`)
console.log(`| setup, ${FIXED_VIEWERS} viewers | delivered | latency p50 ms | latency p99 ms | instances' CPU ms / 1000 parts |`)
console.log('| --- | --- | --- | --- | --- |')
for (const { name } of SETUPS) {
  const runs = fixed[name]
  console.log(`| ${name} | ${(median(runs.map((r) => r.delivered)) * 100).toFixed(1)}% | ${spread(runs.map((r) => r.p50Ms))} | ${spread(runs.map((r) => r.p99Ms))} | ${spread(runs.map((r) => r.cpuPer1000), (x) => num(x, 1))} |`)
}
console.log('')
console.log('| setup | most viewers at >= 99% | vs 1 process through Redis | latency p50 / p99 ms at that count | first count below 99% (delivered) |')
console.log('| --- | --- | --- | --- | --- |')
for (const { name } of SETUPS) {
  const runs = results[name]
  const held = heldOf(name)
  const p50 = median(runs.map(({ held }) => held?.p50Ms))
  const p99 = median(runs.map(({ held }) => held?.p99Ms))
  const fell = runs.map(({ fell }) => fell === undefined ? 'none' : `${fell.viewers} (${(fell.delivered * 100).toFixed(1)}%)`).join(', ')
  console.log(`| ${name} | ${spread(held, String)} | ${num(median(held) / base)}x | ${num(p50)} / ${num(p99)} | ${fell} |`)
}
