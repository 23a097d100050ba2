// A live source's own rate cap (`maxFps`): frames published faster than it are never encoded or sent, the newest
// of a burst goes out when its turn comes, and each frame is counted as published or capped. relay() and
// redisSource() have it by default; createLiveSource() and liveFrom() only when asked.
import { createClient } from '@redis/client'
import t from 'tap'
import { createLiveSource, liveFrom } from '../lib/index.js'
import { redisSource } from '../lib/redis.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { startRedis } from './helpers/redis.js'
import { FAST, rawServer, relayApp } from './helpers/upstream.js'
import { bodies, partsOf, RawClient } from './helpers/wire-client.js'

/** The body of the last part `client` got. */
function lastBody (client: RawClient): string | undefined {
  return bodies(partsOf(client)).at(-1)
}

t.test('a burst published at once: the first frame at once, the newest when its turn comes, the rest never sent', async (t) => {
  // One frame a second: the whole burst falls within one gap on any machine, however slow.
  const live = createLiveSource({ timestamps: false, maxFps: 1 })
  const { port, stats } = await startApp(t, { contentType: 'text/plain', idleRepeatMs: 0, routes: [{ path: '/live', source: live }] })
  const viewer = await RawClient.get(port, '/live')
  await viewer.opened()
  for (let i = 1; i <= 1000; i++) live.publish(`frame ${i}`)
  await viewer.parts(2)
  t.same(bodies(partsOf(viewer)), ['frame 1', 'frame 1000'], 'the first, then the newest: no stale frame left showing')
  t.match(stats()['/live'], { framesPublished: 2, framesCapped: 998, framesRefused: 0 })
  t.equal(live.framesCapped, 998)
  // Quiet for longer than the gap: the next frame goes at once again.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  live.publish('after the gap')
  await viewer.parts(3)
  t.equal(lastBody(viewer), 'after the gap')
  viewer.destroy()
})

t.test('createLiveSource() and liveFrom() have no cap unless asked; maxFps is checked', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port, stats } = await startApp(t, { contentType: 'text/plain', idleRepeatMs: 0, routes: [{ path: '/live', source: live }] })
  const viewer = await RawClient.get(port, '/live')
  await viewer.opened()
  for (let i = 1; i <= 100; i++) live.publish(`frame ${i}`)
  await viewer.until(() => lastBody(viewer) === 'frame 100')
  t.match(stats()['/live'], { framesPublished: 100, framesCapped: 0 })
  viewer.destroy()
  for (const bad of [0, -1, 0.0001, Number.NaN, -Infinity]) {
    t.throws(() => createLiveSource({ maxFps: bad }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /createLiveSource\(\): maxFps must be a number >= 0.001, or Infinity for no cap/ }, String(bad))
    t.throws(() => liveFrom(async function * () {}, { maxFps: bad }), { message: /liveFrom\(\): maxFps must be/ })
  }
  t.doesNotThrow(() => createLiveSource({ maxFps: Infinity }))
})

t.test('close() and a producer that ends send the held frame first; a stopped producer\'s held frame is dropped, counted', async (t) => {
  const live = createLiveSource({ timestamps: false, maxFps: 1 })
  const ended = liveFrom(async function * () { yield 'first'; yield 'second'; yield 'last' }, { timestamps: false, maxFps: 1 })
  let waiting = false
  const stopped = liveFrom(async function * ({ signal }) {
    yield 'shown'
    yield 'held, then stopped'
    waiting = true
    await aborted(signal)
  }, { timestamps: false, maxFps: 1 })
  const { port, stats } = await startApp(t, {
    contentType: 'text/plain',
    idleRepeatMs: 0,
    routes: [{ path: '/live', source: live }, { path: '/ended', source: ended }, { path: '/stopped', source: stopped }]
  })
  const viewer = await RawClient.get(port, '/live')
  await viewer.opened()
  live.publish('one')
  live.publish('two')
  live.publish('three')
  live.close()
  const response = await viewer.end()
  t.same(bodies(response.multipart.parts).slice(0, 2), ['one', 'three'], 'the held frame before the close delimiter')
  t.match(stats()['/live'], { framesPublished: 2, framesCapped: 1 })
  const producer = await RawClient.get(port, '/ended')
  const produced = await producer.end()
  t.same(bodies(produced.multipart.parts).slice(0, 2), ['first', 'last'], 'a producer that ends: its last frame shown')
  t.match(stats()['/ended'], { framesPublished: 2, framesCapped: 1 })
  const leaving = await RawClient.get(port, '/stopped')
  await leaving.parts(1)
  await eventually(() => waiting)
  t.equal(stopped.framesCapped, 0, 'held, not yet counted')
  leaving.destroy()
  await eventually(() => stopped.framesCapped === 1, 'the held frame of a stopped producer counted')
  t.match(stats()['/stopped'], { framesPublished: 1, framesCapped: 1 })
  t.same(bodies(partsOf(leaving)), ['shown'])
})

t.test('a held frame that a route cannot carry is refused when its turn comes: counted, logged once a minute at most, the next one shown', async (t) => {
  // Turns come only when a producer ends (a gap of 1000 s): each run holds its frames, and its end shows them.
  const runs = [['fine', 'holds \r\n--B the delimiter'], ['holds \r\n--B it again'], ['fine again']]
  let run = 0
  const source = liveFrom(async function * () { yield * runs[run++] ?? [] }, { timestamps: false, maxFps: 0.001 })
  const { port, stats, logged } = await startApp(t, { contentType: 'text/plain', boundary: 'B', idleRepeatMs: 0, routes: [{ path: '/live', source }] })
  const seen: string[][] = []
  for (let i = 0; i < runs.length; i++) {
    const viewer = await RawClient.get(port, '/live')
    seen.push(bodies((await viewer.end()).multipart.parts))
  }
  // Each stream ends with its last frame again, or an empty part when it had none.
  t.same(seen, [['fine', 'fine'], [''], ['fine again', 'fine again']], 'the refused frames reached no one; the good one held went out at the end')
  t.equal(source.framesRefused, 2)
  const lines = logged('server push live source: a held frame was refused, skipped')
  t.equal(lines.length, 1, 'one line for the two')
  t.match(lines[0]?.err, { code: 'FST_SERVER_PUSH_BAD_FRAME' })
  t.match(stats()['/live'], { framesPublished: 2, framesRefused: 2, framesCapped: 0 })
})

t.test('relay(): by default at most 60 frames a second; a burst shows its newest, each part counted', async (t) => {
  const count = 500
  const { port: upstreamPort } = await rawServer(t, (socket) => {
    const parts = Array.from({ length: count }, (_, i) => `--b\r\nContent-Type: image/jpeg\r\n\r\nframe ${i + 1}\r\n`)
    // In one write: the relay reads them as fast as it can parse them.
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n${parts.join('')}--b\r\n`)
  })
  const { port, stats } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`)
  const viewer = await RawClient.get(port, '/relay')
  await viewer.until(() => lastBody(viewer) === `frame ${count}`)
  const { framesPublished = 0, framesCapped = 0 } = stats()['/relay'] ?? {}
  t.equal(framesPublished + framesCapped, count, `every part counted: ${framesPublished} published, ${framesCapped} capped`)
  t.ok(framesPublished < count / 2, `far fewer published than sent (${framesPublished} of ${count}), the cap being 60 fps`)
  t.ok(partsOf(viewer).length <= framesPublished, 'no viewer got more')
  viewer.destroy()
  // Raised on purpose: every part published.
  const { port: uncapped, stats: uncappedStats } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, maxFps: Infinity })
  const all = await RawClient.get(uncapped, '/relay')
  await all.until(() => lastBody(all) === `frame ${count}`)
  t.match(uncappedStats()['/relay'], { framesPublished: count, framesCapped: 0 })
  all.destroy()
})

t.test('a flood of Redis messages: redisSource() publishes at most its default rate, the newest frame last, each message counted', async (t) => {
  const redis = await startRedis(t)
  const source = redisSource({ url: redis.url, channel: 'cam', lingerMs: 0 })
  const { port, stats } = await startApp(t, { contentType: 'text/plain', idleRepeatMs: 0, routes: [{ path: '/cam', source }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.opened()
  const subscribed = async (): Promise<boolean> => ((await redis.command(['PUBSUB', 'NUMSUB', 'server-push:cam:frames'])) as [string, number])[1] === 1
  while (!await subscribed()) await new Promise((resolve) => setTimeout(resolve, 10))
  const flooder = createClient({ url: redis.url })
  await flooder.connect()
  t.teardown(() => flooder.destroy())
  // The wire format of a frame message, written here by hand as a hostile publisher would: "SPF1", its number,
  // its head's length, the head (publisher id, part headers), the body.
  const message = (seq: number): Buffer => {
    const head = Buffer.from('flooder\r\nContent-Type: image/jpeg')
    const fixed = Buffer.alloc(12)
    fixed.write('SPF1', 0, 'latin1')
    fixed.writeUInt32BE(seq, 4)
    fixed.writeUInt32BE(head.length, 8)
    return Buffer.concat([fixed, head, Buffer.from(`frame ${seq}`)])
  }
  const count = 5000
  // Issued in one turn, so node-redis pipelines them: Redis sends them on as fast as this process reads.
  await Promise.all(Array.from({ length: count }, (_, i) => flooder.publish('server-push:cam:frames', message(i + 1))))
  await viewer.until(() => lastBody(viewer) === `frame ${count}`)
  const { framesPublished = 0, framesCapped = 0, framesDropped = 0 } = stats()['/cam'] ?? {}
  t.equal(framesPublished + framesCapped, count, `every message counted: ${framesPublished} published, ${framesCapped} capped`)
  t.equal(framesDropped, 0)
  t.ok(framesPublished < count / 2, `far fewer published than received (${framesPublished} of ${count})`)
  t.ok(partsOf(viewer).length <= framesPublished, `the viewer got ${partsOf(viewer).length} parts`)
  viewer.destroy()
})
