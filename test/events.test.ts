// The lifecycle events on node:diagnostics_channel: each published when what it tells happens, with what the README
// says it carries, to a subscriber of the package's channel; none once it has unsubscribed. Real servers, viewers,
// processes, upstreams and redis-server; what the viewers got is read off the wire and set against the events.
import diagnostics from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { createLiveSource, EVENT_NAMES, fromCommand, liveFrom, relay, subscribeEvent, type EventMessages, type EventName } from '../lib/index.js'
import { createPushHandler, createSnapshotHandler } from '../lib/node.js'
import { redisSource } from '../lib/redis.js'
import { events } from '../lib/core/events.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { startRedis } from './helpers/redis.js'
import { FAST } from './helpers/upstream.js'
import { partsOf, RawClient } from './helpers/wire-client.js'

const jpeg = readFileSync(new URL('../example-app/frames/thumb_1.jpg', import.meta.url))

type Recorded = { [Name in EventName]: { name: Name, message: EventMessages[Name] } }[EventName]

/** Every event of the package's channels from now to the end of `t`, in order. */
function record (t: Test): Recorded[] {
  const seen: Recorded[] = []
  for (const name of EVENT_NAMES) {
    t.teardown(subscribeEvent(name, (message, name) => { seen.push({ name, message } as Recorded) }))
  }
  return seen
}

/** The messages of the event `name` recorded, for `route` if given. */
function of<Name extends EventName> (seen: Recorded[], name: Name, route?: string): Array<EventMessages[Name]> {
  return seen.filter((event) => event.name === name && (route === undefined || (event.message as { route?: string }).route === route))
    .map((event) => event.message as EventMessages[Name])
}

const names = (seen: Recorded[], route: string): string[] =>
  seen.filter((event) => (event.message as { route?: string }).route === route).map((event) => event.name.replace('fastify-server-push:', ''))

t.test('the channels are the package\'s, by the names the README lists', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  t.equal(EVENT_NAMES.length, Object.keys(events).length, 'every channel named')
  Object.values(events).forEach((channel, i) => {
    const name = EVENT_NAMES[i] as EventName
    t.ok(name.startsWith('fastify-server-push:'), name)
    t.ok(readme.includes(`\`${name}\``), `the README lists ${name}`)
    t.equal(diagnostics.channel(name), channel, 'the process-wide channel of that name')
  })
})

t.test('a route and its viewers: open, refused, parts with their age, closed with why; the route closed with the app', async (t) => {
  const seen = record(t)
  const live = createLiveSource()
  const app = await startApp(t, { maxClients: 1, routes: [{ path: '/ev', source: live }] })
  const [opened] = of(seen, 'fastify-server-push:route:open', '/ev')
  t.ok(opened !== undefined, 'the route opened as the app became ready')
  const viewer = await RawClient.get(app.port, '/ev?fps=100')
  await viewer.opened()
  const refused = await RawClient.get(app.port, '/ev')
  await refused.end()
  live.publish(jpeg)
  live.publish(jpeg)
  await viewer.parts(2)
  const [open] = of(seen, 'fastify-server-push:viewer:open', '/ev')
  t.match(open, { route: '/ev', framing: 'standard', protocol: 1 })
  t.equal(open?.request.url, '/ev?fps=100', 'the request as the server handed it over')
  const [refusal] = of(seen, 'fastify-server-push:viewer:refuse', '/ev')
  t.match(refusal, { route: '/ev', reason: 'max-clients', status: 503 })
  t.equal(refusal?.request.url, '/ev')
  t.same(opened?.stats(), app.stats()['/ev'], 'the route\'s stats, as stats() reports them')
  const ages = of(seen, 'fastify-server-push:part:send', '/ev')
  t.equal(ages.length, 2, 'one age per live frame written')
  t.ok(ages.every(({ ageMs }) => ageMs >= 0 && Number.isFinite(ageMs)))
  viewer.destroy()
  await eventually(() => of(seen, 'fastify-server-push:viewer:close', '/ev').length === 1)
  const [closed] = of(seen, 'fastify-server-push:viewer:close', '/ev')
  t.match(closed, { route: '/ev', id: open?.id, reason: 'client-gone', parts: 2 })
  // What came after the head and the opening delimiter: the parts as written.
  const body = viewer.data.subarray(viewer.data.indexOf('\r\n\r\n') + 4)
  t.equal(closed?.bytes, body.length - (body.indexOf('\r\n') + 2), 'every byte of the parts counted')
  t.equal(partsOf(viewer).length, 2)

  const second = await RawClient.get(app.port, '/ev')
  await second.parts(1)
  await app.close()
  t.match(of(seen, 'fastify-server-push:viewer:close', '/ev')[1], { reason: 'server-closing', parts: 1 })
  t.equal(of(seen, 'fastify-server-push:route:close', '/ev').length, 1)
  t.same(names(seen, '/ev'), ['route:open', 'viewer:open', 'viewer:refuse', 'part:send', 'part:send', 'viewer:close', 'viewer:open', 'part:send', 'viewer:close', 'route:close'])
  t.not(of(seen, 'fastify-server-push:viewer:open', '/ev')[1]?.id, open?.id, 'each stream its own id')
})

t.test('offline and online again, with how long; stats() adds up offlineMs; offline parts have no age', async (t) => {
  const seen = record(t)
  let say = (): void => {}
  let resume = (): void => {}
  const source = liveFrom(async function * ({ offline, signal }) {
    say = offline
    yield jpeg
    // Offline, then a frame: recovered.
    await new Promise<void>((resolve) => { resume = resolve })
    yield jpeg
    await aborted(signal)
  })
  const app = await startApp(t, { routes: [{ path: '/off', source }] })
  const viewer = await RawClient.get(app.port, '/off')
  await viewer.parts(1)
  t.equal(app.stats()['/off']?.offlineMs, 0)
  say()
  await viewer.parts(2)
  const [offline] = of(seen, 'fastify-server-push:source:offline', '/off')
  t.equal(offline?.source, source, 'the source as its user holds it')
  t.equal(offline?.since, app.stats()['/off']?.offlineSince)
  await eventually(() => (app.stats()['/off']?.offlineMs ?? 0) > 0, 'offline time counted while it lasts')
  resume()
  await viewer.parts(3)
  const [recovered] = of(seen, 'fastify-server-push:source:online', '/off')
  t.match(recovered, { since: offline?.since, reason: 'frame' }, 'a frame: recovered')
  t.ok((recovered?.offlineMs ?? -1) > 0)
  t.equal(app.stats()['/off']?.offlineMs, recovered?.offlineMs, 'stats() keeps the outage once over')
  say()
  await viewer.parts(4)
  viewer.destroy()
  await eventually(() => of(seen, 'fastify-server-push:source:stop', '/off').length === 1)
  // Its producer stopped for want of viewers: the outage is over for whoever watches, but nothing recovered.
  const [, stopped] = of(seen, 'fastify-server-push:source:online', '/off')
  t.match(stopped, { since: of(seen, 'fastify-server-push:source:offline', '/off')[1]?.since, reason: 'stopped' })
  t.ok((app.stats()['/off']?.offlineMs ?? 0) >= (recovered?.offlineMs ?? 0) + (stopped?.offlineMs ?? 0) - 1, 'both outages added up')
  // The stream lets go of its source as it ends, and is told closed once it has.
  t.same(names(seen, '/off'), ['route:open', 'viewer:open', 'source:start', 'part:send', 'source:offline', 'source:online', 'part:send',
    'source:offline', 'source:online', 'source:stop', 'viewer:close'])
})

t.test('a producer that fails: failed with its error, then stopped; its viewer\'s stream ends', async (t) => {
  const seen = record(t)
  const source = liveFrom(async function * () {
    yield jpeg
    throw new Error('camera unplugged')
  })
  const app = await startApp(t, { routes: [{ path: '/fail', source }] })
  const viewer = await RawClient.get(app.port, '/fail')
  await viewer.end()
  await eventually(() => of(seen, 'fastify-server-push:viewer:close', '/fail').length === 1)
  t.match(of(seen, 'fastify-server-push:source:fail', '/fail')[0], { error: { message: 'camera unplugged' } })
  t.match(of(seen, 'fastify-server-push:viewer:close', '/fail')[0], { reason: 'source-error' })
  t.same(names(seen, '/fail').filter((name) => name.startsWith('source:')), ['source:start', 'source:fail', 'source:stop'])
})

t.test('a producer that ends by itself: started, then stopped once', async (t) => {
  const seen = record(t)
  const source = liveFrom(async function * () { yield jpeg })
  const app = await startApp(t, { routes: [{ path: '/end', source }] })
  const viewer = await RawClient.get(app.port, '/end')
  await viewer.end()
  t.same(names(seen, '/end').filter((name) => name.startsWith('source:')), ['source:start', 'source:stop'])
})

t.test('a command that exits is restarted, told with the wait', async (t) => {
  const seen = record(t)
  const script = 'process.stdout.write(require("node:fs").readFileSync(process.argv[1]), () => process.exit(3))'
  const thumb = new URL('../example-app/frames/thumb_1.jpg', import.meta.url).pathname
  const source = fromCommand(process.execPath, ['-e', script, thumb], { restartDelayMs: 50, maxRestartDelayMs: 50 })
  const app = await startApp(t, { routes: [{ path: '/cmd', source }] })
  const viewer = await RawClient.get(app.port, '/cmd')
  await eventually(() => of(seen, 'fastify-server-push:source:restart', '/cmd').length >= 2, 'restarted twice')
  t.match(of(seen, 'fastify-server-push:source:restart', '/cmd')[0], { source, route: '/cmd', delayMs: 50 })
  viewer.destroy()
})

t.test('a relay connects, loses its upstream (told with the URL hidden and the wait), and connects again', async (t) => {
  const seen = record(t)
  const camera = createLiveSource()
  const upstream = await startApp(t, { routes: [{ path: '/video.mjpg', source: camera }] })
  const source = relay(`http://user:secret@127.0.0.1:${upstream.port}/video.mjpg?token=abc`, { ...FAST, offlineAfterMs: 0 })
  const app = await startApp(t, { routes: [{ path: '/relay', source }] })
  const viewer = await RawClient.get(app.port, '/relay')
  await eventually(() => of(seen, 'fastify-server-push:relay:connect', '/relay').length === 1)
  const url = `http://user:***@127.0.0.1:${upstream.port}/video.mjpg?***`
  t.match(of(seen, 'fastify-server-push:relay:connect', '/relay')[0], { url, source })
  await upstream.app.close()
  await eventually(() => of(seen, 'fastify-server-push:relay:lose', '/relay').length >= 1)
  const [lost] = of(seen, 'fastify-server-push:relay:lose', '/relay')
  t.match(lost, { url, error: Error })
  t.ok((lost?.retryInMs ?? -1) >= 0)
  const told = [...of(seen, 'fastify-server-push:relay:connect').map(({ url }) => url), ...of(seen, 'fastify-server-push:relay:lose').map(({ url, error }) => `${url} ${String(error)}`)]
  t.notMatch(told.join('\n'), /secret|abc/, 'no password, no token')
  viewer.destroy()
})

t.test('Redis lost and back, and frames missed on the way, told by a source', async (t) => {
  const seen = record(t)
  const redis = await startRedis(t)
  const source = redisSource({ url: redis.url, channel: 'ev', lingerMs: 0, maxFps: Infinity })
  const app = await startApp(t, { routes: [{ path: '/redis', source }] })
  const viewer = await RawClient.get(app.port, '/redis')
  await viewer.opened()
  await eventually(() => of(seen, 'fastify-server-push:source:start', '/redis').length === 1)
  // Two messages of one publisher, numbered 1 and 3: the one between never came.
  const forged = (seq: number): Buffer => {
    const head = Buffer.from('forger\r\nContent-Type: image/jpeg')
    const fixed = Buffer.alloc(12)
    fixed.write('SPF1')
    fixed.writeUInt32BE(seq, 4)
    fixed.writeUInt32BE(head.length, 8)
    return Buffer.concat([fixed, head, jpeg])
  }
  await eventually(async () => Number(await redis.command(['PUBSUB', 'NUMSUB', 'server-push:ev:frames']).then((reply) => (reply as unknown[])[1])) === 1)
  await redis.command(['PUBLISH', 'server-push:ev:frames', forged(1)])
  await redis.command(['PUBLISH', 'server-push:ev:frames', forged(3)])
  await eventually(() => of(seen, 'fastify-server-push:redis:miss', '/redis').length === 1)
  t.match(of(seen, 'fastify-server-push:redis:miss', '/redis')[0], { channel: 'ev', count: 1, source })
  await redis.kill()
  await eventually(() => of(seen, 'fastify-server-push:redis:lose').length === 1)
  t.match(of(seen, 'fastify-server-push:redis:lose')[0], { channel: 'ev', redis: redis.url, role: 'source', error: Error })
  await redis.start()
  await eventually(() => of(seen, 'fastify-server-push:redis:back').length === 1)
  t.match(of(seen, 'fastify-server-push:redis:back')[0], { channel: 'ev', redis: redis.url, role: 'source' })
  t.ok((of(seen, 'fastify-server-push:redis:back')[0]?.downMs ?? -1) >= 0)
  viewer.destroy()
  await eventually(() => of(seen, 'fastify-server-push:source:stop', '/redis').length === 1)
})

t.test('node:http handlers: events name the route by its handler\'s name; a source by its push route, a snapshot\'s alone by it', async (t) => {
  const seen = record(t)
  const live = liveFrom(async function * ({ signal }) {
    yield jpeg
    await aborted(signal)
  })
  // The snapshot route first: the push route made after it still names the source.
  const snapshot = createSnapshotHandler({ source: live, name: '/snap.jpg' })
  const push = createPushHandler({ source: live, name: 'cam' })
  await push.ready
  t.match(of(seen, 'fastify-server-push:route:open', 'cam'), [{ route: 'cam' }])
  const offline = liveFrom(async function * ({ offline, signal }) {
    offline()
    await aborted(signal)
  })
  const offlineSnapshot = createSnapshotHandler({ source: offline })
  const { createServer } = await import('node:http')
  const server = createServer((req, res) => { (req.url === '/snap.jpg' ? snapshot : req.url === '/none.jpg' ? offlineSnapshot : push)(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as { port: number }
  t.equal((await fetch(`http://127.0.0.1:${port}/none.jpg`)).status, 503)
  t.match(of(seen, 'fastify-server-push:source:offline', 'server-push-snapshot'), [{ source: offline }], 'a snapshot route\'s default name')
  const viewer = await RawClient.get(port, '/cam.mjpg')
  await viewer.parts(1)
  t.match(of(seen, 'fastify-server-push:viewer:open', 'cam'), [{ route: 'cam' }])
  viewer.destroy()
  await push.close()
  t.same(names(seen, 'cam'), ['route:open', 'viewer:open', 'source:start', 'part:send', 'source:stop', 'viewer:close', 'route:close'])
  // A second close tells nothing new.
  await push.close()
  t.equal(of(seen, 'fastify-server-push:route:close', 'cam').length, 1)
  await snapshot.close()
  await offlineSnapshot.close()
})

t.test('unsubscribed: nothing more arrives', async (t) => {
  const got: string[] = []
  const off = subscribeEvent('fastify-server-push:viewer:open', ({ route }) => { got.push(route) })
  const live = createLiveSource()
  const app = await startApp(t, { routes: [{ path: '/quiet', source: live }] })
  const first = await RawClient.get(app.port, '/quiet')
  await first.opened()
  off()
  const second = await RawClient.get(app.port, '/quiet')
  await second.opened()
  t.same(got, ['/quiet'])
  first.destroy()
  second.destroy()
})
