// The offline part: a live source whose producer is not delivering (a relay retrying, a command that crashed,
// Redis away, no frame for offlineAfterMs) sends every viewer its route's offline frame, marked X-Offline, until
// its next frame; snapshots answer 503 meanwhile, and stats() says since when. Real upstreams, processes and
// redis-server; the parts read back from the wire, the built-in JPEG decoded by ffmpeg.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { createLiveSource, createPushHandler, fromCommand, liveFrom, relay, type LiveSource } from '../lib/node.js'
import { publishToRedis, redisSource } from '../lib/redis.js'
import { OFFLINE_JPEG } from '../lib/core/offline-jpeg.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { startRedis } from './helpers/redis.js'
import { FAST, relayApp } from './helpers/upstream.js'
import { partsOf, RawClient, type ParsedPart } from './helpers/wire-client.js'

const jpegs = [1, 2, 3].map((i) => readFileSync(new URL(`../example-app/frames/thumb_${i}.jpg`, import.meta.url)))
const thumb = new URL('../example-app/frames/thumb_1.jpg', import.meta.url).pathname

const isOffline = (part: ParsedPart | undefined): boolean => part?.headers['x-offline'] !== undefined

/** Resolves once the viewer has a part after its first `from` parts that passes `test`; returns it. */
async function partAfter (viewer: RawClient, from: number, test: (part: ParsedPart) => boolean): Promise<ParsedPart> {
  await viewer.until(() => partsOf(viewer).slice(from).some(test))
  return partsOf(viewer).slice(from).find(test) as ParsedPart
}

/** What ffmpeg makes of `jpeg`: its pixels as 8-bit grey, one byte each. */
function decodeGrey (jpeg: Buffer): Promise<{ code: number | null, pixels: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-f', 'mjpeg', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { stdio: ['pipe', 'pipe', 'inherit'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, pixels: Buffer.concat(chunks) }))
    child.stdin.end(jpeg)
  })
}

t.test('createLiveSource({ offlineAfterMs }): no frame while watched → the built-in JPEG, marked; the next frame ends it', async (t) => {
  const live = createLiveSource({ offlineAfterMs: 200 })
  const { port, stats } = await startApp(t, { routes: [{ path: '/cam', source: live, snapshot: '/cam.jpg' }] })
  t.same([stats()['/cam']?.offline, stats()['/cam']?.offlineSince], [false, null], 'online before anyone watches')
  const viewer = await RawClient.get(port, '/cam')
  await viewer.opened()
  // Published at once: the clock, armed when the viewer came, runs from this frame (on a machine slow enough for
  // the clock to run out first, an offline part comes before it, and the outage that counts is the next one).
  live.publish(jpegs[0] as Buffer)
  const frame = await partAfter(viewer, 0, (part) => part.body.equals(jpegs[0] as Buffer))
  const offline = await partAfter(viewer, partsOf(viewer).indexOf(frame) + 1, isOffline)
  const since = stats()['/cam']?.offlineSince
  t.equal(stats()['/cam']?.offline, true, 'stats: offline')
  t.type(since, 'number', 'since when')
  t.equal(offline.headers['x-offline'], String(Math.floor((since as number) / 1000)), 'X-Offline: the epoch second it went offline')
  t.equal(offline.headers['content-type'], 'image/jpeg')
  t.ok(offline.body.equals(OFFLINE_JPEG), 'the built-in picture, byte for byte')
  t.notOk(isOffline(frame), 'a frame carries no X-Offline')

  const decoded = await decodeGrey(offline.body)
  t.equal(decoded.code, 0, 'ffmpeg decodes the offline JPEG as received')
  t.equal(decoded.pixels.length, 320 * 240, '320x240')
  t.ok(Math.abs((decoded.pixels[0] as number) - 0x30) < 8, `dark grey at the corner (${decoded.pixels[0]})`)
  t.ok(decoded.pixels.some((grey) => grey > 0x90), 'and light words')

  // A viewer coming now gets the offline part, not the stale frame.
  const late = await RawClient.get(port, '/cam')
  await late.parts(1)
  t.ok(isOffline(partsOf(late)[0]), 'a new viewer starts on the offline part')
  t.ok(partsOf(late)[0]?.body.equals(OFFLINE_JPEG))

  const snapshot = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
  t.equal(snapshot.status, 503, 'a snapshot is refused while offline')
  t.equal(snapshot.headers.get('retry-after'), '5')
  t.equal(snapshot.headers.get('x-offline'), offline.headers['x-offline'])
  t.match(await snapshot.json(), { message: `The source is offline since ${new Date(since as number).toISOString().replace(/\.\d{3}Z$/, 'Z')}` })

  const count = [partsOf(viewer).length, partsOf(late).length]
  live.publish(jpegs[1] as Buffer)
  // Read at once: the clock may run out again any time after this turn.
  t.same([stats()['/cam']?.offline, stats()['/cam']?.offlineSince], [false, null], 'online again with the frame')
  for (const [i, each] of [viewer, late].entries()) {
    const back = await partAfter(each, count[i] as number, (part) => part.body.equals(jpegs[1] as Buffer))
    t.notOk(isOffline(back), 'the next frame, as it is')
  }
  // And offline again once frames stop: the clock was armed anew.
  await partAfter(viewer, partsOf(viewer).length, isOffline)
  viewer.destroy()
  late.destroy()
})

t.test('a snapshot waiting for a first frame is answered 503 as soon as the source goes offline', async (t) => {
  const live = createLiveSource({ offlineAfterMs: 100 })
  const { port, stats } = await startApp(t, { routes: [{ path: '/cam', source: live, snapshot: '/cam.jpg', snapshotTimeoutMs: 600_000 }] })
  const snapshot = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
  t.equal(snapshot.status, 503)
  t.match(await snapshot.json(), { message: /^The source is offline since / })
  t.equal(snapshot.headers.get('x-offline'), String(Math.floor((stats()['/cam']?.offlineSince as number) / 1000)))
})

t.test('HTML routes: the built-in page says since when; a route of another image type gets the built-in JPEG', async (t) => {
  const live = createLiveSource({ offlineAfterMs: 100 })
  const { port, stats } = await startApp(t, {
    routes: [{ path: '/page', source: live, contentType: 'text/html; charset=utf-8' }, { path: '/png', source: live, contentType: 'image/png' }]
  })
  const page = await RawClient.get(port, '/page')
  const png = await RawClient.get(port, '/png')
  const [offline, picture] = await Promise.all([partAfter(page, 0, isOffline), partAfter(png, 0, isOffline)])
  const since = new Date(stats()['/page']?.offlineSince as number).toISOString().replace(/\.\d{3}Z$/, 'Z')
  t.equal(offline.headers['content-type'], 'text/html; charset=utf-8')
  t.match(offline.body.toString(), new RegExp(`The stream is offline.*<time datetime="${since}">${since}</time>`))
  t.notMatch(offline.body.toString(), /<script/i, 'no script')
  t.equal(stats()['/png']?.offlineSince, stats()['/page']?.offlineSince, 'one outage, the same for every route')
  t.equal(picture.headers['content-type'], 'image/jpeg', 'labelled as what it is')
  t.ok(picture.body.equals(OFFLINE_JPEG))
  page.destroy()
  png.destroy()
})

t.test('the user\'s own offline frame (image and HTML), the plugin\'s default one, and offlineFrame: false', async (t) => {
  const live = createLiveSource({ offlineAfterMs: 100 })
  const { port, stats } = await startApp(t, {
    offlineFrame: '<p>Back soon</p>',
    routes: [
      { path: '/img', source: live, offlineFrame: { body: jpegs[2] as Buffer, headers: { 'X-Camera': 'down' } } },
      { path: '/page', source: live, contentType: 'text/html' },
      { path: '/none', source: live, offlineFrame: false },
      { path: '/text', source: live, contentType: 'text/plain', offlineFrame: undefined }
    ]
  })
  t.same(stats()['/none'], { ...stats()['/none'], offline: false, offlineSince: null })
  const viewers = await Promise.all(['/img', '/page', '/none', '/text'].map((path) => RawClient.get(port, path)))
  const [img, page, none, text] = viewers as [RawClient, RawClient, RawClient, RawClient]
  live.publish('frame')
  await Promise.all(viewers.map((viewer) => viewer.parts(1)))
  const own = await partAfter(img, 1, isOffline)
  t.ok(own.body.equals(jpegs[2] as Buffer), 'the route\'s own picture')
  t.equal(own.headers['x-camera'], 'down', 'with its own headers')
  t.equal(own.headers['content-type'], 'image/jpeg')
  const pageOffline = await partAfter(page, 1, isOffline)
  t.equal(pageOffline.body.toString(), '<p>Back soon</p>', 'the plugin\'s default offline frame')
  t.equal(stats()['/none']?.offline, true, 'offlineFrame: false still counts the route offline')
  // The plugin's default is the text route's too: offlineFrame undefined is no setting.
  await partAfter(text, 1, isOffline)
  // Nothing for /none: a viewer coming now gets the last frame, as before.
  const late = await RawClient.get(port, '/none')
  await late.parts(1)
  t.equal(partsOf(late)[0]?.body.toString(), 'frame', 'no offline part: the last frame')
  t.notOk(partsOf(none).some(isOffline), 'no offline part ever on /none')
  t.notOk(partsOf(late).some(isOffline))
  for (const viewer of [...viewers, late]) viewer.destroy()
})

t.test('a text route with no offline frame of its own gets none; an offline frame holding the boundary is logged, once', async (t) => {
  const live = createLiveSource({ offlineAfterMs: 100 })
  const { port, stats, logged } = await startApp(t, {
    idleRepeatMs: 0,
    routes: [
      { path: '/text', source: live, contentType: 'text/plain' },
      { path: '/bad', source: live, contentType: 'text/plain', boundary: 'xyz', offlineFrame: 'a\r\n--xyz\r\nb' }
    ]
  })
  const text = await RawClient.get(port, '/text')
  const bad = await RawClient.get(port, '/bad')
  live.publish('frame')
  await Promise.all([text.parts(1), bad.parts(1)])
  await eventually(() => stats()['/text']?.offline === true)
  await eventually(() => logged('server push offline frame refused, not sent').length === 1)
  // A viewer joining during the same outage is neither given the part nor logged again.
  const late = await RawClient.get(port, '/bad')
  await late.parts(1)
  t.equal(partsOf(late)[0]?.body.toString(), 'frame')
  t.equal(logged('server push offline frame refused, not sent').length, 1, 'once per outage')
  live.publish('again')
  await text.parts(2)
  t.same(partsOf(text).map((part) => part.body.toString()), ['frame', 'again'], 'no offline part on a text route by default')
  for (const viewer of [text, bad, late]) viewer.destroy()
})

t.test('liveFrom(): the producer says offline() until its next frame; stopped for want of viewers, it is not offline', async (t) => {
  let step: (() => void) | undefined
  let stoppedOffline: (() => void) | undefined
  const source = liveFrom(async function * ({ signal, offline }) {
    yield 'one'
    offline()
    await new Promise<void>((resolve) => { step = resolve })
    yield 'two'
    stoppedOffline = offline
    await aborted(signal)
  })
  const { port, stats } = await startApp(t, { routes: [{ path: '/live', source, contentType: 'text/html' }] })
  const viewer = await RawClient.get(port, '/live')
  const offline = await partAfter(viewer, 0, isOffline)
  t.match(offline.body.toString(), /The stream is offline/)
  t.equal(stats()['/live']?.offline, true)
  await eventually(() => step !== undefined)
  step?.()
  await partAfter(viewer, 0, (part) => part.body.toString() === 'two')
  t.equal(stats()['/live']?.offline, false, 'its next frame: online')
  await eventually(() => stoppedOffline !== undefined)
  viewer.destroy()
  await eventually(() => stats()['/live']?.viewers === 0)
  // A stopped producer's word is not taken.
  stoppedOffline?.()
  t.equal(stats()['/live']?.offline, false, 'offline() after the producer was stopped does nothing')

  // Offline, then everyone leaves: the stopped producer is not offline.
  const second = liveFrom(async function * ({ signal, offline }) {
    yield 'x'
    offline()
    await aborted(signal)
  })
  const app2 = await startApp(t, { routes: [{ path: '/s', source: second, contentType: 'text/html' }] })
  const watcher = await RawClient.get(app2.port, '/s')
  await partAfter(watcher, 0, isOffline)
  t.equal(app2.stats()['/s']?.offline, true)
  watcher.destroy()
  await eventually(() => app2.stats()['/s']?.viewers === 0)
  await eventually(() => app2.stats()['/s']?.offline === false, 'not offline once stopped for want of viewers')
})

t.test('a frame held by the rate cap when the producer goes offline is dropped, not shown after the offline part', async (t) => {
  // One frame per 100 s: the second one is held for its turn long after the test is done.
  const source = liveFrom(async function * ({ signal, offline }) {
    yield 'first'
    yield 'held'
    offline()
    await aborted(signal)
  }, { maxFps: 0.01 })
  const { port, stats } = await startApp(t, { routes: [{ path: '/live', source, contentType: 'text/html' }] })
  const viewer = await RawClient.get(port, '/live')
  await partAfter(viewer, 0, isOffline)
  t.match(stats()['/live'], { framesPublished: 1, framesCapped: 1, offline: true }, 'the held frame counted as capped')
  t.same(partsOf(viewer).map((part) => isOffline(part) ? 'offline' : part.body.toString()), ['first', 'offline'])
  viewer.destroy()
})

t.test('relay(): the upstream killed → the offline part; restarted on the same port → its frames again', async (t) => {
  const camera = createLiveSource()
  const upstream = await startApp(t, { routes: [{ path: '/video.mjpg', source: camera }] })
  const upstreamPort = upstream.port
  // Offline by the upstream alone, not by the clock: the test may take its time between frames.
  const { port, stats, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/video.mjpg`, { ...FAST, offlineAfterMs: 0 })
  const viewer = await RawClient.get(port, '/relay')
  await viewer.opened()
  await eventually(() => logged('server push relay connected').length === 1)
  camera.publish(jpegs[0] as Buffer)
  await viewer.parts(1)
  await upstream.app.close()
  const offline = await partAfter(viewer, 1, isOffline)
  t.ok(offline.body.equals(OFFLINE_JPEG), 'the built-in picture')
  t.equal(stats()['/relay']?.offline, true)
  const decoded = await decodeGrey(offline.body)
  t.equal(decoded.code, 0, 'ffmpeg decodes it')
  t.equal(decoded.pixels.length, 320 * 240)

  const second = createLiveSource()
  const again = await startApp(t, { routes: [{ path: '/video.mjpg', source: second }] }, { listen: upstreamPort })
  await eventually(() => again.app.serverPush.stats()['/video.mjpg']?.viewers === 1)
  // Connected is not online: still offline until a frame comes.
  t.equal(stats()['/relay']?.offline, true, 'connected without a frame: still offline')
  const from = partsOf(viewer).length
  second.publish(jpegs[1] as Buffer)
  const back = await partAfter(viewer, from, (part) => part.body.equals(jpegs[1] as Buffer))
  t.notOk(isOffline(back))
  t.same([stats()['/relay']?.offline, stats()['/relay']?.offlineSince], [false, null])
  t.equal(viewer.ended, false, 'the viewer kept its stream throughout')
  viewer.destroy()
})

t.test('fromCommand(): a command writing frames then exiting non-zero → the offline part; restarted → frames again', async (t) => {
  // Two frames, then a crash.
  const script = 'const j = require("node:fs").readFileSync(process.argv[1]); process.stdout.write(j); process.stdout.write(j, () => process.exit(3))'
  const source = fromCommand(process.execPath, ['-e', script, thumb], { restartDelayMs: 300, maxRestartDelayMs: 300 })
  const { port, stats, logged } = await startApp(t, { routes: [{ path: '/cmd', source }] })
  const viewer = await RawClient.get(port, '/cmd')
  await partAfter(viewer, 0, (part) => !isOffline(part))
  const offlineAt = partsOf(viewer).findIndex(isOffline)
  const offline = offlineAt === -1 ? await partAfter(viewer, 0, isOffline) : partsOf(viewer)[offlineAt] as ParsedPart
  t.ok(offline.body.equals(OFFLINE_JPEG))
  t.match(logged('server push command exited')[0], { code: 3 })
  const after = partsOf(viewer).indexOf(offline) + 1
  const back = await partAfter(viewer, after, (part) => !isOffline(part))
  t.ok(back.body.equals(readFileSync(thumb)), 'the restarted command\'s frame')
  viewer.destroy()
  await eventually(() => stats()['/cmd']?.viewers === 0)
})

t.test('redisSource(): Redis stopped → the offline part; redis-server started again on the same port → frames again', async (t) => {
  const redis = await startRedis(t)
  const camera = createLiveSource()
  const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
  const handle = publishToRedis(camera, { url: redis.url, channel: 'cam', demandCheckMs: 100, producerTtlMs: 1000, log: quiet })
  t.teardown(() => handle.close())
  let n = 0
  const timer = setInterval(() => camera.publish(jpegs[n++ % 2] as Buffer), 50)
  t.teardown(() => clearInterval(timer))
  const source: LiveSource = redisSource({ url: redis.url, channel: 'cam', lingerMs: 0, retryDelayMs: 20, maxRetryDelayMs: 50 })
  const { port, stats } = await startApp(t, { routes: [{ path: '/cam', source }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(2)
  await redis.kill()
  const offline = await partAfter(viewer, 0, isOffline)
  t.ok(offline.body.equals(OFFLINE_JPEG))
  t.equal(stats()['/cam']?.offline, true)
  await redis.start()
  const after = partsOf(viewer).indexOf(offline) + 1
  const back = await partAfter(viewer, after, (part) => !isOffline(part))
  t.ok(jpegs.some((jpeg) => jpeg.equals(back.body)), 'a frame published after Redis came back')
  await eventually(() => stats()['/cam']?.offline === false)
  t.equal(viewer.ended, false)
  viewer.destroy()
})

t.test('option checks: offlineAfterMs and offlineFrame', async (t) => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => createLiveSource({ offlineAfterMs: -1 }), /createLiveSource\(\): offlineAfterMs must be 0 \(never\) or a number from 1 to 2147483647, got -1/],
    [() => createLiveSource({ offlineAfterMs: 0.5 }), /got 0\.5/],
    [() => createLiveSource({ offlineAfterMs: 2 ** 31 }), /got 2147483648/],
    [() => createLiveSource({ offlineAfterMs: Infinity }), /got Infinity/],
    [() => createLiveSource({ offlineAfterMs: '10' as unknown as number }), /got 10/],
    [() => liveFrom(async function * () {}, { offlineAfterMs: NaN }), /liveFrom\(\): offlineAfterMs/],
    [() => relay('http://127.0.0.1:1/', { offlineAfterMs: -5 }), /relay\(\): offlineAfterMs/],
    [() => fromCommand('true', [], { offlineAfterMs: -5 }), /fromCommand\(\): offlineAfterMs/],
    [() => redisSource({ channel: 'c', offlineAfterMs: -5 }), /redisSource\(\): offlineAfterMs/],
    [() => createPushHandler({ source: createLiveSource(), offlineFrame: 5 as unknown as string }), /offlineFrame must be a frame or false: a frame must be a Buffer/],
    [() => createPushHandler({ source: createLiveSource(), offlineFrame: true as unknown as string }), /offlineFrame must be a frame or false/],
    [() => createPushHandler({ source: createLiveSource(), offlineFrame: { body: 'x', contentType: 'nope' } }), /offlineFrame must be a frame or false: contentType "nope"/],
    [() => createPushHandler({ source: createLiveSource(), offlineFrame: { body: 'x', headers: { 'Set-Cookie': 'a=b' } } }), /offlineFrame must be a frame or false: part header Set-Cookie/],
    [() => createPushHandler({ source: createLiveSource(), offlineFrame: { body: 'x', headers: { 'X-Offline': '1' } } }), /offlineFrame must be a frame or false: part header X-Offline is set by the plugin, on offline parts alone/]
  ]
  for (const [make, message] of bad) t.throws(make, { code: 'FST_SERVER_PUSH_INVALID_OPTION', message })
  for (const offlineAfterMs of [0, 1, 2 ** 31 - 1]) t.doesNotThrow(() => createLiveSource({ offlineAfterMs }))
})
