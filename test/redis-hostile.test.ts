// Whoever can PUBLISH on a Redis channel (every instance holds such credentials; one compromised instance or a
// shared Redis is enough) sends what it likes: forged part types and headers, forged numbers, huge messages,
// floods of garbage. Against a real redis-server and a real server, each must come to a defined, bounded end.
import { createClient } from '@redis/client'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { createLiveSource, type Frame, type LiveSource } from '../lib/index.js'
import { publishToRedis, redisSource, type RedisPublisher, type RedisSourceOptions } from '../lib/redis.js'
import { BoundedWarning } from '../lib/core/bounded-warning.js'
import { eventually, startApp, type TestApp } from './helpers/app.js'
import { QUIET } from './helpers/quiet-log.js'
import { startRedis, type RedisServer } from './helpers/redis.js'
import { bodies, partsOf, RawClient } from './helpers/wire-client.js'

const FRAMES = 'server-push:cam:frames'
// No linger, and no rate cap for viewers: these tests send frames together and count each one.
const UNCAPPED = { lingerMs: 0, maxFps: Infinity }

interface Camera {
  redis: RedisServer
  live: LiveSource
  handle: RedisPublisher
  app: TestApp
  viewer: RawClient
  /** The route's counters now. */
  stats: () => { framesPublished: number, framesRefused: number, framesDropped: number }
  /** Publishes `frame` and waits until the publisher has sent it: one number used per frame, none replaced. */
  send: (frame: Frame) => Promise<void>
  /** PUBLISHes raw messages on the frames channel, in order, over one connection of the attacker's own. */
  forge: (...messages: Buffer[]) => Promise<void>
}

/**
 * A Redis, a camera published to it, an instance showing it at /cam (snapshot /cam.jpg, type `contentType`), a
 * viewer there once the publisher produces, and an attacker's connection.
 */
async function camera (t: Test, options: Partial<RedisSourceOptions> = {}, contentType = 'image/png'): Promise<Camera> {
  const redis = await startRedis(t)
  const live = createLiveSource({ timestamps: false })
  const handle = publishToRedis(live, { url: redis.url, channel: 'cam', demandCheckMs: 100, producerTtlMs: 1000, log: QUIET })
  t.teardown(() => handle.close())
  const source = redisSource({ url: redis.url, channel: 'cam', ...UNCAPPED, ...options })
  const app = await startApp(t, { contentType, idleRepeatMs: 0, routes: [{ path: '/cam', source, snapshot: '/cam.jpg' }] })
  const viewer = await RawClient.get(app.port, '/cam')
  t.teardown(() => viewer.destroy())
  await eventually(() => handle.producing)
  const attacker = createClient({ url: redis.url })
  await attacker.connect()
  t.teardown(() => attacker.destroy())
  const stats = (): { framesPublished: number, framesRefused: number, framesDropped: number } => {
    const { framesPublished = 0, framesRefused = 0, framesDropped = 0 } = app.stats()['/cam'] ?? {}
    return { framesPublished, framesRefused, framesDropped }
  }
  const forge = async (...messages: Buffer[]): Promise<void> => {
    await Promise.all(messages.map((message) => attacker.sendCommand(['PUBLISH', FRAMES, message])))
  }
  const send = async (frame: Frame): Promise<void> => {
    const sent = handle.framesSent
    live.publish(frame)
    await eventually(() => handle.framesSent === sent + 1, 'the frame sent')
  }
  return { redis, live, handle, app, viewer, stats, send, forge }
}

/** A message in publishToRedis()'s format (see lib/redis/message.ts), from `publisher` numbered `seq`, with any head lines at all. */
function forged (publisher: string, seq: number, body: string | Buffer, contentType?: string, headers: Array<[string, string]> = []): Buffer {
  const lines = [publisher, ...(contentType === undefined ? [] : [`Content-Type: ${contentType}`]), ...headers.map(([name, value]) => `${name}: ${value}`)]
  const head = Buffer.from(lines.join('\r\n'))
  const fixed = Buffer.alloc(12)
  fixed.write('SPF1')
  fixed.writeUInt32BE(seq, 4)
  fixed.writeUInt32BE(head.length, 8)
  return Buffer.concat([fixed, head, Buffer.from(body)])
}

/** The id of the publisher producing now, as anyone who can read the channel's keys learns it. */
async function producerId (redis: RedisServer): Promise<string> {
  return String(await redis.command(['GET', 'server-push:cam:producer']))
}

/** The snapshot as it came over the wire: status line, header lines and body. */
async function snapshot (port: number): Promise<{ statusLine: string, headerLines: string[], headers: Record<string, string>, body: string }> {
  const { statusLine, headerLines, headers, body } = await (await RawClient.get(port, '/cam.jpg', { headers: ['Connection: close'] })).end()
  return { statusLine, headerLines, headers, body: body.toString('latin1') }
}

const SCRIPT = '<script>document.cookie="script=ran; path=/"; document.title="pwned"</script>'
const ACTING: Array<[string, string]> = [
  ['Set-Cookie', 'session=stolen; Path=/'],
  ['Cache-Control', 'public, max-age=31536000'],
  ['X-Content-Type-Options', 'sniff'],
  ['Transfer-Encoding', 'chunked'],
  ['Refresh', '0; url=http://example.invalid/'],
  ['Clear-Site-Data', '"*"'],
  ['Content-Encoding', 'gzip']
]

t.test('a forged message cannot choose a part\'s type or any header of a part or a snapshot: it is refused whole', async (t) => {
  const { app, live, viewer, stats, forge } = await camera(t)
  live.publish('real frame')
  await viewer.parts(1)
  await forge(
    forged('forger', 1, SCRIPT, 'text/html'),
    forged('forger', 2, 'png?', 'image/png', ACTING),
    forged('forger', 3, SCRIPT, 'text/html; charset=utf-8', [...ACTING, ['X-Frame-Options', 'ALLOWALL']])
  )
  await eventually(() => stats().framesPublished + stats().framesRefused === 4, 'the three forged messages taken or refused')
  const shot = await snapshot(app.port)
  t.comment(`snapshot after the forged messages: ${JSON.stringify(shot.headerLines)} ${JSON.stringify(shot.body.slice(0, 40))}`)
  t.equal(shot.body, 'real frame', 'the snapshot is still the real frame')
  t.equal(shot.headers['content-type'], 'image/png', 'of the route\'s type')
  t.equal(shot.headers['cache-control'], 'no-cache, no-store, must-revalidate, no-transform')
  t.equal(shot.headers['x-content-type-options'], 'nosniff')
  for (const [name] of ACTING.filter(([name]) => !/^(cache-control|x-content-type-options)$/i.test(name))) {
    t.notOk(shot.headerLines.some((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`)), `no ${name}`)
  }
  live.publish('next real frame')
  await viewer.parts(2)
  const parts = partsOf(viewer)
  t.comment(`parts the viewer got: ${JSON.stringify(parts.map((part) => part.headers['content-type']))}`)
  t.same(bodies(parts), ['real frame', 'next real frame'], 'no forged part reached the viewer')
  t.same(stats(), { framesPublished: 2, framesRefused: 3, framesDropped: 0 })
  const [line] = app.logged('server push refused a frame from Redis')
  t.match(line?.err, { message: /a frame of type text\/html, not one of types \(image\/jpeg, image\/png, image\/gif, image\/webp, image\/avif\)/ })
})

t.test('types: images by default; a frame with no type gets the route\'s; the option widens or narrows them', async (t) => {
  const { redis, viewer, stats, send } = await camera(t, {}, 'text/plain')
  await send('typed by the route')
  await send({ body: 'gif', contentType: 'image/gif' })
  await send({ body: SCRIPT, contentType: 'text/html' })
  await send({ body: 'webp', contentType: 'IMAGE/WEBP; q=1' })
  await viewer.parts(3)
  await eventually(() => stats().framesRefused === 1)
  t.same(partsOf(viewer).map((part) => `${part.headers['content-type']} ${part.body.toString()}`),
    ['text/plain typed by the route', 'image/gif gif', 'IMAGE/WEBP; q=1 webp'], 'even from the real publisher: text/html is not shown')
  // An app that means to push HTML through Redis says so.
  const board = await startApp(t, {
    contentType: 'text/html',
    idleRepeatMs: 0,
    routes: [{ path: '/board', source: redisSource({ url: redis.url, channel: 'cam', ...UNCAPPED, types: ['text/html'] }) }]
  })
  const reader = await RawClient.get(board.port, '/board')
  await eventually(() => board.stats()['/board']?.framesRefused === 1, 'the stored frame, an image, is refused there')
  await send({ body: '<p>board</p>', contentType: 'text/html; charset=utf-8' })
  await send({ body: 'png', contentType: 'image/png' })
  await send('<p>no type of its own</p>')
  await reader.parts(2)
  t.same(bodies(partsOf(reader)), ['<p>board</p>', '<p>no type of its own</p>'])
  t.equal(board.stats()['/board']?.framesRefused, 2)
  reader.destroy()
  for (const types of [['text/html', 'nonsense'], 'image/png', [1]]) {
    t.throws(() => redisSource({ channel: 'c', types: types as string[] }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /redisSource\(\): types must be an array of media types/ })
  }
  t.throws(() => redisSource({ channel: 'c', maxFrameBytes: 0 }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /maxFrameBytes must be/ })
})

t.test('a forged number cannot silence the publisher, and framesDropped counts plausible gaps only', async (t) => {
  const { redis, viewer, stats, send, forge } = await camera(t)
  await send('frame 1')
  await viewer.parts(1)
  const id = await producerId(redis)
  // The real publisher's id with the last number there is: the real frames that follow all look old.
  await forge(forged(id, 2 ** 32 - 1, 'forged'))
  for (let i = 2; i <= 6; i++) await send(`frame ${i}`)
  // Another publisher's frame, after them on the channel: once it is shown, every real frame before it was taken.
  await forge(forged('marker', 1, 'marker'))
  await eventually(() => bodies(partsOf(viewer)).includes('marker'), 'the marker shown')
  const shown = bodies(partsOf(viewer))
  t.comment(`shown: ${JSON.stringify(shown)}, framesDropped ${stats().framesDropped}`)
  t.same(shown.filter((body) => body.startsWith('frame')), ['frame 1', 'frame 2', 'frame 3', 'frame 4', 'frame 5', 'frame 6'], 'every real frame shown')
  t.equal(stats().framesDropped, 0, 'a jump of billions is not counted: nothing was missed')
  // A small step ahead is a plausible gap: counted (and the real frame after it still shown).
  await send('frame 7')
  await eventually(() => bodies(partsOf(viewer)).includes('frame 7'))
  await forge(forged(id, 9, 'ahead'))
  await send('frame 8')
  await eventually(() => bodies(partsOf(viewer)).includes('frame 8'))
  t.equal(stats().framesDropped, 1, 'the one number skipped counted')
  // A message refused whole (a type not allowed) moves nothing: with the real publisher's next number, it does not
  // make the real frame of that number look like one already shown.
  await forge(forged(id, 9, SCRIPT, 'text/html'))
  await send('frame 9')
  await eventually(() => bodies(partsOf(viewer)).includes('frame 9'), 'the real frame after a refused one shown')
  t.equal(stats().framesDropped, 1, 'and no gap counted')
  t.equal(viewer.ended, false)
})

t.test('the stored frame a first viewer gets: live copies of it, or of frames before it, are not shown again', async (t) => {
  const { redis, viewer, send, forge } = await camera(t)
  for (let i = 1; i <= 20; i++) await send(`frame ${i}`)
  await eventually(() => bodies(partsOf(viewer)).includes('frame 20'))
  // Another instance, whose first viewer starts from the stored frame.
  const other = await startApp(t, { contentType: 'image/png', idleRepeatMs: 0, routes: [{ path: '/cam', source: redisSource({ url: redis.url, channel: 'cam', ...UNCAPPED }) }] })
  const first = await RawClient.get(other.port, '/cam')
  t.teardown(() => first.destroy())
  await first.parts(1)
  const id = await producerId(redis)
  // What may still be on its way on the channel when the stored frame (number 20) was read: that frame, frames before it.
  await forge(forged(id, 20, 'copy of the stored frame'), forged(id, 17, 'older than the stored frame'))
  // Far behind is no copy: the numbering started over (shown), and what follows it in order is shown too.
  await forge(forged(id, 2, 'numbering started over'), forged(id, 3, 'and went on'), forged('marker', 1, 'marker'))
  await eventually(() => bodies(partsOf(first)).includes('marker'), 'the marker shown')
  t.same(bodies(partsOf(first)), ['frame 20', 'numbering started over', 'and went on', 'marker'])
  t.equal(other.stats()['/cam']?.framesDropped, 0)
})

t.test('a message over maxFrameBytes (4 MiB by default, as the publisher\'s) or with a head over 64 KiB is refused', async (t) => {
  const { app, live, viewer, stats, forge } = await camera(t)
  live.publish('small')
  await viewer.parts(1)
  const big = Buffer.alloc(5 * 2 ** 20, 'a')
  await forge(forged('forger', 1, big), forged('forger', 2, 'x', undefined, [['X-Pad', 'a'.repeat(70_000)]]))
  live.publish('after')
  await viewer.parts(2)
  const received = viewer.data.length
  t.comment(`bytes the viewer received: ${received}`)
  t.same(bodies(partsOf(viewer)), ['small', 'after'])
  t.ok(received < 2 ** 20, 'no megabytes reached the viewer')
  t.equal(stats().framesRefused, 2)
  t.match(app.logged('server push refused a frame from Redis')[0]?.err, { message: `a frame of ${big.length} bytes, over maxFrameBytes (${4 * 2 ** 20})` })
  t.throws(() => live.publish({ body: 'x', headers: { 'X-Pad': 'a'.repeat(70_000) } }), { code: 'FST_SERVER_PUSH_BAD_FRAME', message: /over the 65536 a Redis message carries/ })

  const { viewer: small, stats: smallStats, forge: forgeSmall, app: smallApp } = await camera(t, { maxFrameBytes: 1000 })
  await forgeSmall(forged('forger', 1, Buffer.alloc(1000, 'b')), forged('forger', 2, Buffer.alloc(1001, 'c')))
  await eventually(() => smallStats().framesPublished + smallStats().framesRefused === 2)
  await small.parts(1)
  t.same(partsOf(small).map((part) => part.body.length), [1000], 'maxFrameBytes of its own')
  t.match(smallApp.logged('server push refused a frame from Redis')[0]?.err, { message: /a frame of 1001 bytes, over maxFrameBytes \(1000\)/ })
})

t.test('garbage interleaved with frames is logged at most once a minute, with the count, whatever the interleaving', async (t) => {
  const { app, stats, forge } = await camera(t)
  const started = performance.now()
  const messages: Buffer[] = []
  for (let i = 1; i <= 1000; i++) messages.push(forged('p', i, `frame ${i}`), Buffer.from(`garbage ${i}`))
  await forge(...messages)
  await eventually(() => stats().framesPublished + stats().framesRefused === 2000)
  const lines = app.logged('server push refused a frame from Redis')
  const minutes = Math.floor((performance.now() - started) / 60_000)
  t.comment(`1000 garbage messages among 1000 frames: ${lines.length} warning line(s) in ${minutes} whole minute(s)`)
  t.equal(stats().framesRefused, 1000, 'every one counted')
  t.ok(lines.length >= 1 && lines.length <= 1 + minutes, 'the first logged, then one line a minute at most')
  t.match(lines[0], { refused: 1, err: { message: 'not a server push frame message' } })
  t.equal(lines.reduce((sum, line) => sum + Number(line.refused), 0) <= 1000, true)
})

t.test('a bounded warning: the first at once, then one line per interval with the count since the last one', async (t) => {
  const warning = new BoundedWarning(50)
  t.equal(warning.add(1), 1, 'the first is logged')
  t.equal(warning.add(1), 0)
  t.equal(warning.add(5), 0, 'within the interval: counted, not logged')
  await sleep(100)
  t.equal(warning.add(1), 7, 'the next one after the interval is logged with all since the last line')
  t.equal(warning.add(1), 0)
})
