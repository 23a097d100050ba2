// Live sources shared through a real redis-server: two apps in this process stand for two instances, each
// showing the channel through its own redisSource(), fed by one publisher.
import { createClient } from '@redis/client'
import t, { type Test } from 'tap'
import { createLiveSource, liveFrom, type LiveSource } from '../lib/index.js'
import { FST_SERVER_PUSH_FRAME_TOO_LARGE, publishToRedis, redisSource, type PublishToRedisOptions, type RedisClient, type RedisPublisher, type RedisSourceOptions } from '../lib/redis.js'
import { eventually, startApp, timerCount, type TestApp } from './helpers/app.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { certificate } from './helpers/protocols.js'
import { clientCount, startRedis, type RedisServer } from './helpers/redis.js'
import { bodies, partsOf, RawClient } from './helpers/wire-client.js'

/** An app showing `channel` from Redis at /cam (snapshot /cam.jpg), standing for one instance. */
async function instance (t: Test, redis: RedisServer, options: Partial<RedisSourceOptions> = {}): Promise<TestApp & { source: LiveSource }> {
  const source = redisSource({ url: redis.url, channel: 'cam', lingerMs: 0, ...options })
  const app = await startApp(t, {
    contentType: 'text/plain',
    idleRepeatMs: 0,
    routes: [{ path: '/cam', source, snapshot: '/cam.jpg', snapshotTimeoutMs: 500 }]
  })
  return { ...app, source }
}

/** What publishers log when told to log here (a publish-only process has no route's logger). */
const publisherLogs: Array<{ msg: string | undefined, obj: object | string }> = []
const publisherLog = {
  debug: () => {},
  info: (obj: object | string, msg?: string) => { publisherLogs.push({ obj, msg }) },
  warn: (obj: object | string, msg?: string) => { publisherLogs.push({ obj, msg }) },
  error: (obj: object | string, msg?: string) => { publisherLogs.push({ obj, msg }) }
}

function publisher (t: Test, source: LiveSource, redis: RedisServer, options: Partial<PublishToRedisOptions> = {}): ReturnType<typeof publishToRedis> {
  const handle = publishToRedis(source, { url: redis.url, channel: 'cam', demandCheckMs: 100, producerTtlMs: 1000, log: publisherLog, ...options })
  t.teardown(() => handle.close())
  return handle
}

/** A Redis, a live source published to it, an instance showing it, and a viewer there, once the publisher produces. */
async function watchedCamera (t: Test, options: Partial<PublishToRedisOptions> = {}): Promise<{ redis: RedisServer, live: LiveSource, handle: RedisPublisher, a: TestApp, viewer: RawClient }> {
  const redis = await startRedis(t)
  const live = createLiveSource({ timestamps: false })
  const handle = publisher(t, live, redis, options)
  const a = await instance(t, redis)
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handle.producing)
  return { redis, live, handle, a, viewer }
}

/** The part headers and body of each part a client got, as text. */
function partsText (client: RawClient): string[] {
  return partsOf(client).map((part) => `${part.rawHeaders.join('\n')}\n\n${part.body.toString('latin1')}`)
}

t.test('a viewer on every instance gets every frame, byte for byte, with the X-Timestamp it was published with', async (t) => {
  const redis = await startRedis(t)
  const live = createLiveSource()
  const handle = publisher(t, live, redis)
  // The publishing process shows the source itself too: its parts are what the others must get.
  const local = await startApp(t, { contentType: 'text/plain', idleRepeatMs: 0, routes: [{ path: '/cam', source: live }] })
  const instances = [await instance(t, redis), await instance(t, redis)]
  const viewers = await Promise.all(instances.map(({ port }) => RawClient.get(port, '/cam')))
  await Promise.all(viewers.map((viewer) => viewer.opened()))
  await eventually(() => handle.producing, 'the publisher produces once a process has viewers')
  const reference = await RawClient.get(local.port, '/cam')
  await reference.opened()
  const frames = ['one', Buffer.from([0, 255, 13, 10, 45, 45, 0]), { body: 'three', contentType: 'image/png', headers: { 'X-Seq': '3' } }]
  for (const [i, frame] of frames.entries()) {
    live.publish(frame)
    await Promise.all([reference, ...viewers].map((client) => client.parts(i + 1)))
  }
  const expected = partsText(reference)
  t.match(expected[0], /^Content-Type: text\/plain\nContent-Length: 3\nX-Timestamp: \d+\.\d{6}\n\none$/)
  for (const viewer of viewers) t.same(partsText(viewer), expected, 'the same part headers, X-Timestamp included, and bodies')
  t.same(instances.map(({ stats }) => stats()['/cam']?.framesPublished), [3, 3], 'stats count the frames received from Redis')
  t.equal(handle.framesSent, 3)
  for (const client of [reference, ...viewers]) client.destroy()
})

t.test('the producer runs while a process anywhere has a viewer, and stops after the last one leaves', async (t) => {
  const redis = await startRedis(t)
  const runs: string[] = []
  const camera = liveFrom(async function * ({ signal, log }) {
    // No route of this process shows the camera: its logger is the publisher's.
    log.info('camera started')
    runs.push('started')
    try {
      for (let i = 1; !signal.aborted; i++) {
        yield `frame ${i}`
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    } finally {
      runs.push('stopped')
    }
  })
  const handle = publisher(t, camera, redis)
  const [a, b] = [await instance(t, redis), await instance(t, redis)]
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(runs, [], 'no viewer anywhere: the camera is not read')
  const first = await RawClient.get((a as TestApp).port, '/cam')
  await first.parts(2)
  t.same(runs, ['started'])
  const second = await RawClient.get((b as TestApp).port, '/cam')
  await second.parts(2)
  first.destroy()
  await second.parts(4)
  t.same(runs, ['started'], 'one process still has a viewer: the camera runs on')
  second.destroy()
  await eventually(() => runs.length === 2, 'the camera stops after the last viewer anywhere left')
  t.same(runs, ['started', 'stopped'])
  t.ok(publisherLogs.some(({ obj }) => obj === 'camera started'), 'the camera logged through the publisher\'s logger')
  t.notOk(handle.producing)
  t.equal(await redis.command(['EXISTS', 'server-push:cam:latest']), 0, 'a stopped camera\'s last frame is not kept for the next viewer')
})

t.test('a first viewer gets the last frame at once; snapshots work on any instance, 503 before any frame', async (t) => {
  const redis = await startRedis(t)
  const live = createLiveSource({ timestamps: false })
  publisher(t, live, redis)
  const [a, b] = [await instance(t, redis), await instance(t, redis)]
  const none = await fetch(`http://127.0.0.1:${(a as TestApp).port}/cam.jpg`)
  t.equal(none.status, 503, 'no frame published yet')
  const viewer = await RawClient.get((a as TestApp).port, '/cam')
  await viewer.opened()
  await eventually(() => live.published === 0 && (a as TestApp).stats()['/cam']?.viewers === 1)
  // Published until a viewer's process has it: the publisher learns of the viewer a moment later.
  for (let i = 0; partsOf(viewer).length === 0; i++) {
    live.publish(`latest ${i}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const latest = `latest ${live.published - 1}`
  await eventually(() => bodies(partsOf(viewer)).includes(latest))
  const snapshot = await fetch(`http://127.0.0.1:${(b as TestApp).port}/cam.jpg`)
  t.equal(snapshot.status, 200)
  t.equal(await snapshot.text(), latest, 'the other instance, with no viewer, answers the snapshot from Redis')
  const late = await RawClient.get((b as TestApp).port, '/cam')
  t.same(bodies((await late.parts(1)).multipart.parts), [latest], 'a first viewer on another instance gets the last frame at once')
  viewer.destroy()
  late.destroy()
})

t.test('a frame over maxFrameBytes is refused at publish with a coded error, and no one gets it', async (t) => {
  const { live, viewer } = await watchedCamera(t, { maxFrameBytes: 10 })
  t.throws(() => live.publish('eleven byte'), { code: 'FST_SERVER_PUSH_FRAME_TOO_LARGE', message: /11 bytes, over the 10/ })
  t.type(new FST_SERVER_PUSH_FRAME_TOO_LARGE(1, 0), RangeError)
  live.publish('ten bytes!')
  t.same(bodies((await viewer.parts(1)).multipart.parts), ['ten bytes!'])
  viewer.destroy()
})

t.test('nothing outlives the apps and the publisher: no connection to Redis, no timer', async (t) => {
  const redis = await startRedis(t)
  const timers = timerCount()
  const live = createLiveSource()
  const handle = publishToRedis(live, { url: redis.url, channel: 'cam', demandCheckMs: 100, producerTtlMs: 1000 })
  const a = await instance(t, redis, { lingerMs: 60_000 })
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handle.producing)
  live.publish('x')
  await viewer.parts(1)
  t.ok(await clientCount(redis) >= 4, 'a source and a publisher hold two connections each')
  viewer.destroy()
  await a.close()
  await handle.close()
  await handle.close()
  t.equal(await clientCount(redis), 0, 'every connection closed')
  t.equal(timerCount(), timers, 'no timer left, the linger\'s included')
})

/** A camera publishing numbered frames every few ms until stopped. */
function counter (): LiveSource {
  return liveFrom(async function * ({ signal }) {
    for (let i = 1; !signal.aborted; i++) {
      yield `frame ${i}`
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })
}

/** The numbers of the frames a client got. */
function numbers (client: RawClient): number[] {
  return bodies(partsOf(client)).map((body) => Number(body.replace('frame ', '')))
}

t.test('Redis down at start: streams open and wait, snapshots answer 503; both connect once Redis is up', async (t) => {
  const redis = await startRedis(t, { started: false })
  const live = counter()
  // No logger given, and no route of this process shows the source: the publisher tells the console.
  const warnings = t.capture(console, 'warn')
  const handle = publisher(t, live, redis, { log: undefined })
  const a = await instance(t, redis, { retryDelayMs: 20, maxRetryDelayMs: 50 })
  const viewer = await RawClient.get(a.port, '/cam')
  await viewer.opened()
  // Each snapshot connects anew (the source has no linger here): still one outage.
  for (let i = 0; i < 3; i++) t.equal((await fetch(`http://127.0.0.1:${a.port}/cam.jpg`)).status, 503)
  t.equal(a.logged('server push lost its Redis connection, reconnecting').length, 1, 'logged once, not once per retry')
  const [line] = a.logged('server push lost its Redis connection, reconnecting')
  t.equal(line?.redis, redis.url + '')
  await redis.start()
  await viewer.parts(3)
  t.ok(handle.producing)
  t.equal(a.logged('server push reached Redis again').length, 1)
  t.match(warnings().map(({ args }) => args[0]), ['server push lost its Redis connection, reconnecting'], 'the publisher warned once')
  const increasing = numbers(viewer).every((n, i, all) => i === 0 || n > (all[i - 1] as number))
  t.ok(increasing, 'frames in order')
  viewer.destroy()
})

t.test('Redis killed and restarted mid-stream: viewers stay connected, frames resume, the gap is counted and logged once', async (t) => {
  const redis = await startRedis(t)
  const live = counter()
  const handle = publisher(t, live, redis)
  const a = await instance(t, redis, { retryDelayMs: 20, maxRetryDelayMs: 50 })
  const viewer = await RawClient.get(a.port, '/cam')
  await viewer.parts(3)
  await redis.kill()
  await eventually(() => a.logged('server push lost its Redis connection, reconnecting').length === 1)
  const before = partsOf(viewer).length
  // Frames made while Redis is away are lost: the publisher does not keep them for later.
  await eventually(() => handle.framesDropped > 0, 'frames dropped while Redis is away')
  // Its role lapses in Redis after producerTtlMs: so does its producer here.
  await eventually(() => !handle.producing, 'the producer stops once its role would have lapsed')
  await redis.start()
  await viewer.parts(before + 3)
  t.notOk(viewer.ended, 'the viewer stayed connected')
  const dropped = a.stats()['/cam']?.framesDropped ?? 0
  t.ok(dropped > 0, `the instance counted ${dropped} frames it never got`)
  const [gap] = a.logged('server push missed frames published to Redis')
  t.equal(gap?.missed, dropped, 'and logged the gap once')
  t.equal(a.logged('server push lost its Redis connection, reconnecting').length, 1)
  t.equal(a.logged('server push reached Redis again').length, 1)
  const got = numbers(viewer)
  const restarts = got.filter((n, i) => i > 0 && n <= (got[i - 1] as number)).length
  t.equal(restarts, 1, 'frames in order, none twice, but for the camera starting over after the outage')
  viewer.destroy()
})

t.test('messages that are not frames, or not fit for a route, are refused, counted, and logged at most once a minute', async (t) => {
  const redis = await startRedis(t)
  const live = createLiveSource({ timestamps: false })
  const handle = publisher(t, live, redis)
  // No rate cap: the frame holding the delimiter is refused as it comes, not when a held frame's turn comes.
  const source = redisSource({ url: redis.url, channel: 'cam', lingerMs: 0, maxFps: Infinity })
  const a = await startApp(t, { contentType: 'text/plain', boundary: 'B', idleRepeatMs: 0, routes: [{ path: '/cam', source }] })
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handle.producing)
  for (const garbage of ['garbage', 'SPF1\0\0\0\x01\0\0\0\x50longer head than message', 'SPF1\0\0\0\x01\0\0\0\x0bp\r\nNo colon']) {
    await redis.command(['PUBLISH', 'server-push:cam:frames', garbage])
  }
  live.publish('fine')
  await viewer.parts(1)
  live.publish('holds \r\n--B the delimiter')
  await eventually(() => a.stats()['/cam']?.framesRefused === 4)
  live.publish('fine again')
  await viewer.parts(2)
  t.same(bodies(partsOf(viewer)), ['fine', 'fine again'])
  const lines = a.logged('server push refused a frame from Redis')
  t.equal(lines.length, 1, 'one line for the first; the next ones within the minute are counted only')
  t.match(lines[0], { refused: 1, err: { message: 'not a server push frame message' } })
  viewer.destroy()
})

t.test('Redis with a password, and over TLS: connected through the URL, the password never logged', async (t) => {
  const { cert, certPath, keyPath } = certificate()
  const secured = await startRedis(t, {
    args: ['--requirepass', 'sesame', '--tls-port', 'on', '--tls-cert-file', certPath, '--tls-key-file', keyPath, '--tls-auth-clients', 'no'],
    url: (port) => `rediss://default:sesame@127.0.0.1:${port}`,
    client: { socket: { tls: true, ca: [cert] } }
  })
  const live = createLiveSource({ timestamps: false })
  const handle = publisher(t, live, secured, { ca: cert })
  const a = await instance(t, secured, { ca: cert })
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handle.producing)
  live.publish('secret frame')
  t.same(bodies((await viewer.parts(1)).multipart.parts), ['secret frame'])
  viewer.destroy()

  const wrong = await instance(t, secured, { url: secured.url.replace('sesame', 'open-sesame'), ca: cert })
  const refused = await RawClient.get(wrong.port, '/cam')
  await eventually(() => wrong.logged('server push lost its Redis connection, reconnecting').length === 1)
  const [line] = wrong.logged('server push lost its Redis connection, reconnecting')
  t.equal(line?.redis, `rediss://default:***@127.0.0.1:${secured.port}`)
  t.notMatch(JSON.stringify(wrong.logs), /sesame/, 'no log line holds the password')
  refused.destroy()
})

t.test('a prefix keeps apps sharing one Redis apart', async (t) => {
  const redis = await startRedis(t)
  const ours = createLiveSource({ timestamps: false })
  const theirs = createLiveSource({ timestamps: false })
  const handles = [publisher(t, ours, redis, { prefix: 'ours:' }), publisher(t, theirs, redis, { prefix: 'theirs:' })]
  const a = await instance(t, redis, { prefix: 'ours:' })
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handles[0]?.producing === true)
  t.notOk(handles[1]?.producing, 'no viewer of theirs: their publisher does not produce')
  theirs.publish('theirs')
  ours.publish('ours')
  t.same(bodies((await viewer.parts(1)).multipart.parts), ['ours'])
  t.equal(await redis.command(['EXISTS', 'ours:cam:latest']), 1)
  viewer.destroy()
})

t.test('of several publishers of one channel one produces; another takes over when it closes or loses the role', async (t) => {
  const redis = await startRedis(t)
  const cameras = [createLiveSource({ timestamps: false }), createLiveSource({ timestamps: false })]
  const handles = cameras.map((camera) => publisher(t, camera, redis))
  const a = await instance(t, redis)
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handles.some((handle) => handle.producing))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(handles.filter((handle) => handle.producing).length, 1, 'one producer, checked again and again')
  const first = handles.findIndex((handle) => handle.producing)
  const other = 1 - first
  cameras[first]?.publish('first')
  cameras[other]?.publish('ignored')
  await viewer.parts(1)
  // Another publisher took the role while this one was not answering (its role expired): it stops producing.
  await redis.command(['SET', 'server-push:cam:producer', 'someone else'])
  await eventually(() => !(handles[first] as RedisPublisher).producing, 'the first publisher sees the role is not its own')
  await redis.command(['DEL', 'server-push:cam:producer'])
  await eventually(() => handles.some((handle) => handle.producing))
  const next = handles.findIndex((handle) => handle.producing)
  await (handles[next] as RedisPublisher).close()
  await eventually(() => handles[1 - next]?.producing === true, 'the other one takes over')
  cameras[1 - next]?.publish('taken over')
  await eventually(() => bodies(partsOf(viewer)).includes('taken over'))
  t.notOk(bodies(partsOf(viewer)).includes('ignored'))
  viewer.destroy()
})

t.test('a client of the app\'s own is used and left open; close() of the source ends its streams', async (t) => {
  const redis = await startRedis(t)
  const client = createClient({ url: redis.url })
  client.on('error', () => {})
  t.teardown(() => client.destroy())
  const live = createLiveSource({ timestamps: false })
  const handle = publisher(t, live, redis, { client, url: undefined })
  const a = await instance(t, redis, { client, url: undefined })
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => handle.producing)
  live.publish('through your client')
  await viewer.parts(1)
  a.source.close()
  await viewer.closed
  t.match(viewer.response()?.body.toString(), /through your client\r\n--[^\r]+--\r\n$/, 'ended well-formed')
  await handle.close()
  t.ok(client.isReady, 'the app\'s client is still open')
  t.equal(client.listenerCount('error'), 1, 'and has none of the plugin\'s listeners left')
})

t.test('wrong options are refused with coded errors naming the option', async (t) => {
  const live = createLiveSource()
  const cases: Array<[() => unknown, RegExp]> = [
    [() => redisSource(undefined as unknown as RedisSourceOptions), /redisSource\(\): options with a channel are required/],
    [() => redisSource({ channel: '' }), /channel must be a non-empty string/],
    [() => redisSource({ channel: 'c', prefix: 1 as unknown as string }), /prefix must be a string/],
    [() => redisSource({ channel: 'c', url: 'http://user:pw@host' }), /url must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/user:\*\*\*@host"/],
    [() => redisSource({ channel: 'c', url: 5 as unknown as string }), /got number/],
    [() => redisSource({ channel: 'c', client: {} as RedisClient }), /client must be a node-redis client/],
    [() => redisSource({ channel: 'c', lingerMs: -1 }), /lingerMs must be a finite number >= 0/],
    [() => redisSource({ channel: 'c', retryDelayMs: 0 }), /retryDelayMs must be/],
    [() => redisSource({ channel: 'c', chanel: 'x' } as RedisSourceOptions), /unknown option "chanel"/],
    [() => publishToRedis({} as LiveSource, { channel: 'c' }), /publishToRedis\(\): the first argument must be a live source \(createLiveSource\(\), .*, redisSource\(\)\)/],
    [() => publishToRedis(live, { channel: 'c', maxFrameBytes: 0 }), /maxFrameBytes must be/],
    [() => publishToRedis(live, { channel: 'c', demandCheckMs: 1000, producerTtlMs: 1000 }), /producerTtlMs \(1000\) must be greater than demandCheckMs \(1000\)/]
  ]
  for (const [make, message] of cases) t.throws(make, { code: 'FST_SERVER_PUSH_INVALID_OPTION', message })
  t.equal(redisSource({ channel: 'c' }).published, 0, 'the defaults will do; nothing connects before a viewer comes')
})

t.test('frames faster than Redis takes them: one on its way at a time, the newest next, the rest dropped and counted', async (t) => {
  const { live, handle, a, viewer } = await watchedCamera(t)
  for (const body of ['sent', 'replaced', 'newest']) live.publish(body)
  await viewer.parts(2)
  t.same(bodies(partsOf(viewer)), ['sent', 'newest'])
  t.equal(handle.framesDropped, 1)
  t.equal(handle.framesSent, 2)
  t.equal(a.stats()['/cam']?.framesDropped, 0, 'a frame the publisher replaced never left it: no instance counts it lost')
  t.same(a.logged('server push missed frames published to Redis'), [])
  viewer.destroy()
})

t.test('a frame that comes again (the stored one after it came live) is shown once; viewers coming together are counted once', async (t) => {
  const { redis, live, handle, a, viewer } = await watchedCamera(t)
  live.publish('once')
  await viewer.parts(1)
  // Republished as Redis stored it, byte for byte.
  await redis.command(['EVAL', "redis.call('PUBLISH', KEYS[2], redis.call('GET', KEYS[1])) redis.call('PUBLISH', KEYS[3], '+') redis.call('PUBLISH', KEYS[3], '+')",
    '3', 'server-push:cam:latest', 'server-push:cam:frames', 'server-push:cam:demand'])
  live.publish('twice')
  await viewer.parts(2)
  t.same(bodies(partsOf(viewer)), ['once', 'twice'])
  t.equal(a.stats()['/cam']?.framesDropped, 0)
  t.ok(handle.producing)
  live.close()
  viewer.destroy()
})

// CLIENT PAUSE WRITE holds the publisher's first check at the claim of the producer role (a script); close() comes
// while it is held, and Redis's answer, the role granted, after it.
t.test('close() while the publisher claims the producer role leaves no producer running', async (t) => {
  const redis = await startRedis(t)
  const a = await instance(t, redis)
  const viewer = await RawClient.get(a.port, '/cam')
  await viewer.opened()
  let starts = 0
  const camera = liveFrom(async function * ({ signal }) {
    starts++
    while (!signal.aborted) {
      yield 'frame'
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })
  t.teardown(() => camera.close())
  await eventually(async () => (await redis.command(['PUBSUB', 'NUMSUB', 'server-push:cam:frames']) as unknown[])[1] === 1, 'Redis counts the viewer')
  await redis.command(['CLIENT', 'PAUSE', String(PATIENCE_MS), 'WRITE'])
  const handle = publishToRedis(camera, { url: redis.url, channel: 'cam', demandCheckMs: 50, producerTtlMs: 1000, log: publisherLog })
  await eventually(async () => String(await redis.command(['CLIENT', 'LIST'])).split('\n')
    .some((line) => / flags=b /.test(line) && line.includes(' cmd=eval ')), 'the claim is held')
  const closed = handle.close()
  await redis.command(['CLIENT', 'UNPAUSE'])
  await closed
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(starts, 0, 'the camera was not started')
  t.notOk(handle.producing, 'the publisher says so')
  t.equal(await redis.command(['GET', 'server-push:cam:producer']), null, 'no publisher holds the producer role')
  viewer.destroy()
})

t.test('a producer that fails is started again while viewers remain; a closed source stops publishing', async (t) => {
  const redis = await startRedis(t)
  let starts = 0
  const camera = liveFrom(async function * () {
    starts++
    for (let i = 1; i <= 3; i++) {
      yield `run ${starts} frame ${i}`
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error('camera unplugged')
  })
  const handle = publisher(t, camera, redis)
  const a = await instance(t, redis)
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => bodies(partsOf(viewer)).includes('run 2 frame 1'), 'the camera runs again after it failed')
  t.notOk(viewer.ended, 'the viewer never noticed but for the pause')
  camera.close()
  await eventually(() => !handle.producing)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.notOk(handle.producing, 'a closed source is not claimed again')
  viewer.destroy()
})

t.test('a Redis that stops answering holds neither app.close() nor publisher.close() up', async (t) => {
  const { redis, live, handle, a, viewer } = await watchedCamera(t)
  live.publish('last')
  await viewer.parts(1)
  redis.signal('SIGSTOP')
  viewer.destroy()
  await Promise.all([a.close(), handle.close()])
  t.pass('both closed')
  redis.signal('SIGCONT')
  // Redis, resumed, sees the connections that were cut while it was stopped close.
  let left = await clientCount(redis)
  for (const deadline = Date.now() + PATIENCE_MS; left > 0 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    left = await clientCount(redis)
  }
  t.equal(left, 0, 'and no connection was left behind')
})

t.test('a command Redis refuses (an ACL without EVAL) is logged once, with the command', async (t) => {
  const redis = await startRedis(t)
  await redis.command(['ACL', 'SETUSER', 'camera', 'on', '>pw', '~*', '&*', '+@all', '-eval'])
  const live = createLiveSource({ timestamps: false })
  const logs: Array<{ obj: object | string, msg: string | undefined }> = []
  const log = { ...publisherLog, warn: (obj: object | string, msg?: string) => { logs.push({ obj, msg }) } }
  const handle = publisher(t, live, redis, { url: redis.url.replace('//', '//camera:pw@'), log })
  const a = await instance(t, redis)
  const viewer = await RawClient.get(a.port, '/cam')
  await eventually(() => logs.length > 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(logs.length, 1, 'once, though every check is refused')
  t.match(logs[0], { msg: 'server push: Redis refused a command', obj: { command: 'EVAL', err: { message: /NOPERM/ } } })
  t.notOk(handle.producing)
  viewer.destroy()
})
