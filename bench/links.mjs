// Pictures on slow links (issue 24): how old a picture is when it arrives (now − when it was published, one clock:
// server and viewers share this process) and how many a view gets a second, on a loopback limited to 1, 4 and 16
// Mbit/s, over HTTP/1.1 (1 viewer, 4 viewers) and HTTP/2 (a camera wall: 12 streams on one session). The plugin
// against raw latest-frame-wins servers (bench/links/servers.mjs), without and with TCP_NOTSENT_LOWAT; then a
// viewer that stops reading for 3 s: the age of its first parts once it reads again. Prints markdown tables.
// Run with `npm run bench`, or alone with `node bench/links.mjs` after `npm run build`. It enters a network
// namespace of its own (`unshare -rn`, no root needed), where every case runs in turn, rounds interleaved.
//   ROUNDS=3           rounds, each every case once (the machine is noisy: each figure is the median, with its spread)
//   BEFORE=<dist>      also the plugin built elsewhere, e.g. BEFORE=/work/bench-before/dist, as a column of its own
//   SERVERS=plugin,raw the columns (names below); RATES=4 the links in Mbit/s; WINDOW=150 frames measured a case
//   SCENARIOS=links,stall  the tables to make
import { spawnSync } from 'node:child_process'
import { delimiter } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spread } from './common.mjs'
import { runCase } from './links/case.mjs'
import { linkScript } from './links/link.mjs'
import { quantile } from './links/record.mjs'

const FPS = 30
const SIZE = 50_000
const MBIT = 1_000_000
// A connection's first seconds on a slow link (slow start overshooting the link's queue, the first losses) are
// not what a viewer watching for minutes sees.
const WARMUP = 90

if (process.env.LINKS_NAMESPACE === undefined) {
  // Debian keeps ip and tc in /sbin, which an unprivileged user's PATH may leave out.
  const PATH = [process.env.PATH, '/usr/sbin', '/sbin'].join(delimiter)
  const { status, error } = spawnSync('unshare', ['-rn', 'sh', '-c', `${linkScript(4 * MBIT)} && exec "$@"`, 'sh', process.execPath, fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: { ...process.env, PATH, LINKS_NAMESPACE: '1' } })
  if (error !== undefined || status !== 0) {
    console.error(`bench/links.mjs needs unshare (util-linux), ip and tc (iproute2), and unprivileged user namespaces: ${error?.message ?? `exit ${status}`}`)
  }
  process.exit(status ?? 1)
}

const ROUNDS = Number(process.env.ROUNDS ?? 3)
const RATES = (process.env.RATES?.split(',') ?? ['1', '4', '16']).map(Number)
const SCENARIOS = process.env.SCENARIOS?.split(',') ?? ['links', 'stall']
const WINDOW = process.env.WINDOW === undefined ? undefined : Number(process.env.WINDOW)
const LAYOUTS = [
  { name: 'HTTP/1.1, 1 viewer', protocol: 'http1', viewers: 1 },
  { name: 'HTTP/1.1, 4 viewers', protocol: 'http1', viewers: 4 },
  { name: 'HTTP/2, 12 streams on one session', protocol: 'http2', viewers: 12 }
]
const ALL_SERVERS = {
  plugin: { server: 'plugin' },
  ...(process.env.BEFORE === undefined ? {} : { 'plugin before': { server: 'plugin', dist: process.env.BEFORE } }),
  // What the kernel's bound alone does to the plugin: net.ipv4.tcp_notsent_lowat for the whole namespace.
  'plugin + sysctl lowat': { server: 'plugin', sysctlLowat: 16384 },
  raw: { server: 'raw' },
  'raw + lowat': { server: 'raw', lowat: true }
}
const SERVERS = process.env.SERVERS?.split(',') ?? Object.keys(ALL_SERVERS).filter((name) => name !== 'plugin + sysctl lowat')
for (const name of SERVERS) if (ALL_SERVERS[name] === undefined) throw new Error(`no server ${name}: ${Object.keys(ALL_SERVERS).join(', ')}`)

/**
 * Frames measured at `rate` for `layout`: 5 s, or 10 s where a view gets few parts (at 1 Mbit/s, and a camera
 * wall's views: in 5 s at 4 Mbit/s each gets 3 or 4, and its frames/s would read 0.6 or 0.8 by that alone).
 */
const windowAt = (rate, layout) => WINDOW ?? (rate === 1 || layout.protocol === 'http2' ? 300 : 150)

/** What one round of a case shows: frames/s per view (mean, slowest), the ages of all views' parts pooled. */
function figures ({ views }) {
  const phases = views.map(({ phases: [phase] }) => phase)
  const fps = phases.map(({ ages, seconds }) => ages.length / seconds)
  const ages = phases.flatMap(({ ages }) => ages)
  return {
    fps: fps.reduce((sum, x) => sum + x, 0) / fps.length,
    slowest: Math.min(...fps),
    p50: quantile(ages, 0.5),
    p95: quantile(ages, 0.95),
    max: quantile(ages, 1)
  }
}

/** A part at most this old (seconds) is fresh again after a stall: the issue's target for one viewer at 4 Mbit/s. */
const FRESH = 0.4

/**
 * What one round of the stalled viewer shows: how many parts it got that were published before it read again,
 * the age of the first one published after, and how long until a fresh one came (undefined: none came).
 */
function afterStall ({ views: [{ afterStall: parts }] }) {
  return {
    held: parts.filter(({ held }) => held).length,
    firstNew: parts.find(({ held }) => !held)?.age,
    untilFresh: parts.find(({ age }) => age <= FRESH)?.after
  }
}

const cases = []
for (const rate of SCENARIOS.includes('links') ? RATES : []) {
  for (const layout of LAYOUTS) {
    for (const name of SERVERS) {
      cases.push({
        key: `${rate}|${layout.name}|${name}`,
        config: { ...ALL_SERVERS[name], protocol: layout.protocol, route: 'live', viewers: layout.viewers, fps: FPS, size: SIZE, warmup: WARMUP, phases: [{ rate: rate * MBIT, frames: windowAt(rate, layout) }] },
        read: figures
      })
    }
  }
}
// Stops reading 1 s into the window, for 3 s, then reads for 5 s more. Its receive buffer is fixed at Linux's
// first size, 128 KiB: grown by Linux as it read (to 32 MiB here), it would take in the whole stall's parts, and
// the server would never know of it.
for (const name of SCENARIOS.includes('stall') ? SERVERS : []) {
  cases.push({
    key: `stall|${name}`,
    config: { ...ALL_SERVERS[name], protocol: 'http1', route: 'live', viewers: 1, fps: FPS, size: SIZE, warmup: WARMUP, phases: [{ rate: 4 * MBIT, frames: 270 }], stall: { at: WARMUP + 30, frames: 90, receiveBuffer: 128 * 1024 } },
    read: afterStall
  })
}

const results = new Map(cases.map(({ key }) => [key, []]))
const started = performance.now()
for (let round = 0; round < ROUNDS; round++) {
  // Each round in another order, so that no case always follows the same one.
  const order = round % 2 === 0 ? cases : [...cases].reverse()
  for (const [done, { key, config, read }] of order.entries()) {
    process.stderr.write(`\rround ${round + 1}/${ROUNDS}: case ${done + 1}/${cases.length}, ${Math.round((performance.now() - started) / 1000)} s`)
    results.get(key).push(read(await runCase(config)))
  }
}
process.stderr.write('\n')

const seconds = (x) => x.toFixed(2)
const perSecond = (x) => x.toFixed(1)
if (SCENARIOS.includes('links')) printLinks()
if (SCENARIOS.includes('stall')) printStall()

function printLinks () {
  console.log(`\nPicture age on a slow link: 30 fps × 50 KB frames, the link a tbf of 32 kbit burst and 100 ms latency, MTU \
1500; median of ${ROUNDS} rounds (min-max). Age: now − publication, seconds, every view's parts after a ${WARMUP / FPS} s \
warm-up. frames/s: the mean per view, and the slowest view's; the link's share is what the link carries for one view.\n`)
  console.log('| link | viewers | server | frames/s per view | slowest view | link\'s share | age p50 | age p95 | age max |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const mbit of RATES) {
    for (const layout of LAYOUTS) {
      const share = Math.min(FPS, mbit * MBIT / (SIZE * 8) / layout.viewers)
      for (const name of SERVERS) {
        const runs = results.get(`${mbit}|${layout.name}|${name}`)
        const column = (field, format) => spread(runs.map((run) => run[field]), format)
        console.log(`| ${mbit} Mbit/s | ${layout.name} | ${name} | ${column('fps', perSecond)} | ${column('slowest', perSecond)} | \
${perSecond(share)} | ${column('p50', seconds)} | ${column('p95', seconds)} | ${column('max', seconds)} |`)
      }
    }
  }
}

function printStall () {
  console.log(`\nA viewer that stops reading for 3 s (HTTP/1.1, 4 Mbit/s, its receive buffer fixed at 128 KiB), then reads \
again; median of ${ROUNDS} rounds (min-max). held: the parts it got that were published before it read again (they \
waited on the way: in its receive buffer, in the server's kernel, in the server); then the age of the first part \
published after it read again, and the seconds until a part at most ${FRESH} s old arrived ('-': none in 5 s).\n`)
  console.log('| server | held | age of the first part published after | seconds until a fresh part |')
  console.log('| --- | --- | --- | --- |')
  for (const name of SERVERS) {
    const runs = results.get(`stall|${name}`)
    const column = (read, format) => spread(runs.map(read), format)
    console.log(`| ${name} | ${column(({ held }) => held, String)} | ${column(({ firstNew }) => firstNew, seconds)} | \
${column(({ untilFresh }) => untilFresh, seconds)} |`)
  }
}
