// What a wall of 12 views costs the page's main thread, per frame, in Chromium, Firefox ESR and WebKitGTK over
// HTTP/2: 12 plain <img> against 12 <push-view>, each against a page with no stream. Run with `npm run bench`, or
// alone with `node bench/view-cost.mjs` after `npm run build`; ENGINES=chromium,webkit, ROUNDS=3, WINDOW_SECONDS=5
// and FPS=10 change the run. BEFORE_SCRIPT=<file> adds a wall of push-views running that script (another version
// of push-view.js, say the one before a change), measured in the same rounds, interleaved with the others.
//
// Every figure is per frame delivered in its window (the route's partsSent, counted by the server), minus what the
// page with no stream measured in the same round:
// - main-thread CPU (the table's figure): what the main threads of the browser's page processes ran in the window
//   (/proc/<pid>/task/<pid>/schedstat), the same reading in every engine;
// - free time lost: a probe in the page runs fixed slices of JS back to back (MessageChannel ping-pong) for a
//   second window; the page with no stream completes N_base, a wall N_case, and the wall took
//   (N_base - N_case) / N_base of the window away from the page's scripts. On 2 cores this also counts the time
//   the main thread waited for a core that the browser's other threads (and the server) held;
// - whole-browser CPU: every thread of every process of the browser, in the first window.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import serverPush, { createLiveSource } from 'fastify-server-push'
import { every, median, spread } from './common.mjs'
import { mainThreadNs, open, processNs } from './browsers.mjs'

const ROOT = new URL('..', import.meta.url).pathname
const ENGINES = (process.env.ENGINES ?? 'chromium,firefox,webkit').split(',')
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const WINDOW_MS = Number(process.env.WINDOW_SECONDS ?? 5) * 1000
const FPS = Number(process.env.FPS ?? 10)
const VIEWS = 12
// The probe's unit of work: a fixed loop (0.1 to 0.5 ms in these engines), short beside the window.
const SLICE = 5_000
// Where the browser module is served (the plugin's `push-view.js`); without it the push-view case is left out.
const PUSH_VIEW_PATH = process.env.PUSH_VIEW_PATH ?? '/push-view.js'
const BEFORE_SCRIPT = process.env.BEFORE_SCRIPT

/** 320x240 JPEG frames of ffmpeg's test pattern (a moving picture, so that every frame decodes to new pixels). */
function makeJpegs () {
  const dir = mkdtempSync(join(tmpdir(), 'bench-view-frames-'))
  try {
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-frames:v', '20',
      '-q:v', '5', join(dir, '%02d.jpg')])
    return readdirSync(dir).sort().map((name) => readFileSync(join(dir, name)))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const CASES = {
  base: (i) => `<div class="view" id="v${i}"></div>`,
  img: (i) => `<img class="view" src="/live.mjpg?view=${i}" alt="">`,
  view: (i) => `<push-view class="view" src="/live.mjpg?view=${i}"></push-view>`,
  ...BEFORE_SCRIPT === undefined ? {} : { before: (i) => `<push-view class="view" src="/live.mjpg?view=${i}"></push-view>` }
}
const SCRIPTS = { view: PUSH_VIEW_PATH, before: '/push-view-before.js' }

function page (name) {
  const views = Array.from({ length: VIEWS }, (_, i) => CASES[name](i)).join('\n')
  return `<!doctype html><meta charset="utf-8"><title>${name}</title>
<style>body { margin: 0; display: grid; grid-template-columns: repeat(4, 320px); grid-auto-rows: 240px }
.view { display: block; width: 320px; height: 240px; background: #888 }</style>
${SCRIPTS[name] === undefined ? '' : `<script src="${SCRIPTS[name]}"></script>`}
${views}
<script>
  // Parts a push-view has put on screen (its 'frame' event), to check the frames delivered were shown.
  globalThis.framesShown = 0
  for (const view of document.querySelectorAll('push-view')) view.addEventListener('frame', () => { globalThis.framesShown++; view.shownOnce = true })
</script>`
}

/**
 * Runs in the page: fixed slices of work back to back for `ms`, each its own task (a MessageChannel message, which
 * no engine clamps as it does setTimeout), so that the page's own tasks run between them. Returns how many ran.
 */
function probe ({ ms, slice }) {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    const end = performance.now() + ms
    let count = 0
    let sink = 0
    channel.port1.onmessage = () => {
      for (let i = 0; i < slice; i++) sink = (Math.imul(sink, 31) + i) | 0
      count++
      if (performance.now() < end) {
        channel.port2.postMessage(null)
      } else {
        channel.port1.close()
        resolve({ count, sink })
      }
    }
    channel.port2.postMessage(null)
  })
}

/** Runs in the page: how many of its views have something to show (an image decoded, a push-view's first frame). */
function shown () {
  return [...document.querySelectorAll('.view')].filter((view) => view.naturalWidth > 0 || view.shownOnce === true).length
}

const app = Fastify({
  http2: true,
  https: { allowHTTP1: true, cert: readFileSync(join(ROOT, 'test/fixtures/tls/cert.pem')), key: readFileSync(join(ROOT, 'test/fixtures/tls/key.pem')) }
})
// The HTTP versions the streams were asked over, for a page whose streams do not all open.
const versions = []
app.addHook('onRequest', async (request) => { if (request.url.startsWith('/live.mjpg')) versions.push(request.raw.httpVersion) })
await app.register(serverPush)
const source = createLiveSource()
app.get('/live.mjpg', { serverPush: { source, contentType: 'image/jpeg' } }, async () => {})
if (BEFORE_SCRIPT !== undefined) {
  const before = readFileSync(BEFORE_SCRIPT, 'utf8')
  app.get(SCRIPTS.before, async (request, reply) => reply.type('text/javascript').send(before))
}
for (const name of Object.keys(CASES)) app.get(`/${name}`, async (request, reply) => reply.type('text/html').send(page(name)))
await app.listen({ port: 0, host: '127.0.0.1' })
const origin = `https://127.0.0.1:${app.server.address().port}`
const jpegs = makeJpegs()
const stopProducing = every(FPS, (n) => source.publish(Buffer.from(jpegs[n % jpegs.length])))
const live = () => Object.values(app.serverPush.stats())[0]

const cases = Object.keys(CASES)
if ((await app.inject({ url: PUSH_VIEW_PATH })).statusCode !== 200) {
  console.error(`${PUSH_VIEW_PATH} is not served: the push-view case is left out`)
  cases.splice(cases.indexOf('view'), 1)
}

/** One case in one round: a window read from /proc, then a window of the probe. */
async function measure (browser, name, windowMs = WINDOW_MS) {
  // Every stream open and every view showing a picture. Now and then WebKit opens only a few of a page's 12 image
  // streams and leaves the others pending: the page is loaded again then, and the reloads are reported.
  const want = name === 'base' ? 0 : VIEWS
  let reloads = -1
  const up = async () => live().viewers === want && await browser.evaluate(shown) >= want
  for (let ready = false; !ready;) {
    if (++reloads > 3) throw new Error(`${name}: ${live().viewers} streams open, ${await browser.evaluate(shown)} views showing; streams asked over HTTP ${versions.join(', ')}`)
    versions.length = 0
    await browser.goto(`${origin}/${name}`)
    for (const deadline = performance.now() + 10_000; !(ready = await up()) && performance.now() < deadline;) await sleep(50)
  }
  await browser.evaluate(probe, { ms: 300, slice: SLICE })
  await sleep(1000)

  const renderers = browser.renderers()
  const all = browser.browserPids()
  const mainBefore = renderers.map(mainThreadNs)
  const allBefore = all.map(processNs)
  const cpuParts = live().partsSent
  const shownBefore = await browser.evaluate(() => globalThis.framesShown)
  await sleep(windowMs)
  const parts = live().partsSent - cpuParts
  const framesShown = await browser.evaluate(() => globalThis.framesShown) - shownBefore
  const mainNs = renderers.reduce((sum, pid, i) => sum + Math.max(0, mainThreadNs(pid) - mainBefore[i]), 0)
  const allNs = all.reduce((sum, pid, i) => sum + Math.max(0, processNs(pid) - allBefore[i]), 0)

  const probeParts = live().partsSent
  const { count } = await browser.evaluate(probe, { ms: windowMs, slice: SLICE })
  const result = { reloads, http1: versions.filter((v) => v !== '2.0').length, parts, framesShown, probeParts: live().partsSent - probeParts, mainMs: mainNs / 1e6, allMs: allNs / 1e6, count, viewers: live().viewers, shown: await browser.evaluate(shown) }
  await browser.goto('about:blank').catch(() => {})
  return result
}

const results = {}
const restarts = Object.fromEntries(ENGINES.map((engine) => [engine, 0]))
try {
  for (const engine of ENGINES) {
    let browser = await open(engine)
    /** `measure`, in a new browser once if this one cannot open the page's streams (WebKit, now and then). */
    const measureOrRestart = async (name, windowMs) => {
      try {
        return await measure(browser, name, windowMs)
      } catch (error) {
        if (restarts[engine]++ > 0) throw error
        console.error(`${engine}: ${error.message}; starting the browser again`)
        await browser.close()
        browser = await open(engine)
        return await measure(browser, name, windowMs)
      }
    }
    try {
      results[engine] = Object.fromEntries(cases.map((name) => [name, []]))
      // A first pass, not counted: the first pages a browser opens cost it more (code loaded, caches filled).
      for (const name of cases) await measureOrRestart(name, 1000)
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of cases) {
          const result = await measureOrRestart(name)
          results[engine][name].push(result)
          console.error(`${engine} round ${round + 1} ${name}: ${JSON.stringify(result)}`)
        }
      }
    } finally {
      await browser.close()
    }
  }
} finally {
  stopProducing()
  source.close()
  await app.close()
}

const seconds = WINDOW_MS / 1000
/** Per round of `engine`, what `figure` of case `name` gives per delivered frame, less the round's page with no stream. */
const perFrame = (engine, name, figure, parts = 'parts') => results[engine][name].map((r, round) => (figure(r) - figure(results[engine].base[round])) / r[parts])
const mainCpu = (engine, name) => perFrame(engine, name, (r) => r.mainMs)
const allCpu = (engine, name) => perFrame(engine, name, (r) => r.allMs)
// Slices the case did not complete, as the time they take on the page with no stream.
const freeLost = (engine, name) => perFrame(engine, name, (r) => -r.count, 'probeParts')
  .map((lost, round) => lost * WINDOW_MS / results[engine].base[round].count)
const fps = (engine, name) => results[engine][name].map((r) => r.parts / seconds)
const ratio = (engine, figure, name = 'view') => figure(engine, name).map((x, i) => x / figure(engine, 'img')[i])
const ms = (x) => x.toFixed(3)
const times = (x) => `${x.toFixed(2)}x`

const views = cases.slice(1)
const label = { img: `${VIEWS} <img>`, view: `${VIEWS} <push-view>`, before: `${VIEWS} <push-view> (BEFORE_SCRIPT)` }
const table = (title, columns) => {
  console.log(`\n${title}\n`)
  console.log(`| engine | ${columns.map(([name]) => name).join(' | ')} |`)
  console.log(`| --- | ${columns.map(() => '---').join(' | ')} |`)
  for (const engine of ENGINES) console.log(`| ${engine} | ${columns.map(([, cell]) => cell(engine)).join(' | ')} |`)
}
const both = views.includes('img') && views.includes('view')
const ratios = (figure) => both ? views.filter((v) => v !== 'img').map((v) => [`${v === 'view' ? 'push-view' : 'before'} / img`, (e) => spread(ratio(e, figure, v), times)]) : []
console.log(`\nA wall of ${VIEWS} views of a ${FPS} fps live route (320x240 JPEG) over HTTP/2 with TLS, ${ROUNDS} rounds of ${seconds} s`)
console.log('windows, median (min-max); per frame delivered, less the page with no stream of the same round')
table('Main-thread CPU ms per frame (the page processes\' main threads, from /proc)', [
  ...views.map((v) => [`${label[v]}`, (e) => spread(mainCpu(e, v), ms)]),
  ...ratios(mainCpu),
  ...views.map((v) => [`${label[v]}: frames/s`, (e) => spread(fps(e, v), (x) => x.toFixed(0))])
])
table('Free main-thread time lost per frame, ms (the probe), and whole-browser CPU ms per frame', [
  ...views.map((v) => [`${label[v]}: free time lost`, (e) => spread(freeLost(e, v), ms)]),
  ...ratios(freeLost),
  ...views.map((v) => [`${label[v]}: whole browser`, (e) => spread(allCpu(e, v), ms)])
])
if (both) {
  const shownShare = (e) => views.filter((v) => v !== 'img').map((v) => `${v} ${spread(results[e][v].map((r) => 100 * r.framesShown / r.parts), (x) => x.toFixed(1))}`).join(' ')
  console.log(`\nFrames the push-views showed ('frame' events), % of those delivered: ${ENGINES.map((e) => `${e} ${shownShare(e)}`).join(', ')}`)
}
const reloads = ENGINES.map((e) => [e, cases.flatMap((name) => results[e][name]).reduce((sum, r) => sum + r.reloads, 0)]).filter(([, n]) => n > 0)
if (reloads.length > 0) console.log(`\nPages loaded again because some of their streams never opened: ${reloads.map(([e, n]) => `${e} ${n}`).join(', ')}`)
const restarted = ENGINES.filter((e) => restarts[e] > 0)
if (restarted.length > 0) console.log(`Browsers started again because a page's streams never all opened: ${restarted.join(', ')}`)
console.log(`\nProbe slices completed by the page with no stream in ${seconds} s: ${ENGINES.map((e) => `${e} ${median(results[e].base.map((r) => r.count))}`).join(', ')}`)
