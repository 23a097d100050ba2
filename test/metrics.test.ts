// fastify-server-push/metrics on a real app: viewers over sockets, the registry's text scraped as Prometheus
// would (from the registry and over HTTP), parsed, and checked by promtool; the values are what the viewers saw.
import http, { type Server } from 'node:http'
import { once } from 'node:events'
import { Registry, register } from 'prom-client'
import t, { type Test } from 'tap'
import { createLiveSource, fromCommand, liveFrom, relay } from '../lib/index.js'
import { createPushHandler } from '../lib/node.js'
import { registerMetrics } from '../lib/metrics.js'
import { redisSource } from '../lib/redis.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { freePort } from './helpers/child.js'
import { parseExposition, promtoolCheck, valueOf, type Sample } from './helpers/prometheus.js'
import { RawClient } from './helpers/wire-client.js'

const P = 'fastify_server_push_'
const KEY = 'a key of thirty-two bytes or more!'

t.test('a Fastify app: viewers, parts, bytes, refusals, a stall cut, an offline source, over the registry and /metrics', async (t) => {
  const registry = new Registry()
  const metrics = registerMetrics({ registry })
  t.teardown(() => metrics.close())
  const live = createLiveSource()
  const offlineSource = liveFrom(async function * ({ signal, offline }) {
    yield 'one'
    offline()
    await aborted(signal)
  })
  const { port, close } = await startApp(t, {
    routes: [
      { path: '/live', source: live, contentType: 'text/plain', maxClients: 2, idleRepeatMs: 0 },
      { path: '/pull', source: () => Buffer.alloc(1024 * 1024, 2), stallTimeoutMs: 100 },
      { path: '/off', source: offlineSource, contentType: 'text/html' },
      { path: '/signed', source: live, snapshot: '/signed.jpg', signingKeys: KEY }
    ]
  }, {
    setup: (app) => {
      app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
    }
  })
  const scrape = async (): Promise<Sample[]> => parseExposition(await registry.metrics())
  const value = async (name: string, labels: Record<string, string>): Promise<number | undefined> => valueOf(await scrape(), P + name, labels)

  const viewers = [await RawClient.get(port, '/live'), await RawClient.get(port, '/live')]
  await Promise.all(viewers.map((viewer) => viewer.opened()))
  t.equal(await value('viewers', { route: '/live' }), 2, 'two viewers now')
  t.equal(await value('streams_started_total', { route: '/live' }), 2)
  const third = await RawClient.get(port, '/live')
  t.match((await third.end()).statusLine, /503/)
  t.equal(await value('viewers_refused_total', { route: '/live', reason: 'max-clients' }), 1, 'the third refused for maxClients')
  t.equal(await value('viewers_refused_total', { route: '/live', reason: 'server-closing' }), 0, 'every reason is there from the start, at 0')
  t.equal((await fetch(`http://127.0.0.1:${port}/signed.jpg`)).status, 403)
  t.equal(await value('viewers_refused_total', { route: '/signed.jpg', reason: 'signature' }), 1, 'a snapshot route\'s refusal counted too')

  for (let i = 1; i <= 3; i++) {
    live.publish(`frame ${i}`)
    await Promise.all(viewers.map((viewer) => viewer.parts(i)))
  }
  const received = viewers.map((viewer) => viewer.response())
  const parts = received.reduce((sum, response) => sum + (response?.multipart.parts.length ?? 0), 0)
  // A stream's opening delimiter is the stream's, not a part's.
  const bytes = received.reduce((sum, response) => sum + (response?.body.length ?? 0) - `--${response?.boundary}\r\n`.length, 0)
  let samples = await scrape()
  t.equal(parts, 6)
  t.equal(valueOf(samples, `${P}parts_sent_total`, { route: '/live' }), parts, 'parts sent: what the viewers parsed')
  t.equal(valueOf(samples, `${P}sent_bytes_total`, { route: '/live' }), bytes, 'bytes sent: what the viewers got after the heads and openings')
  t.equal(valueOf(samples, `${P}frames_published_total`, { route: '/live' }), 3)
  t.equal(valueOf(samples, `${P}part_age_seconds_count`, { route: '/live' }), parts, 'each live part\'s age observed')
  t.equal(valueOf(samples, `${P}part_age_seconds_bucket`, { route: '/live', le: '+Inf' }), parts)
  t.equal(valueOf(samples, `${P}offline`, { route: '/live' }), 0)

  for (const viewer of viewers) viewer.destroy()
  await eventually(async () => await value('viewers', { route: '/live' }) === 0, 'viewers back to 0')
  await eventually(async () => await value('streams_ended_total', { route: '/live', reason: 'client-gone' }) === 2, 'two streams ended, client-gone')

  const stalled = await RawClient.get(port, '/pull')
  await stalled.until((data) => data.length > 1024 * 1024)
  stalled.socket.pause()
  await eventually(async () => await value('streams_ended_total', { route: '/pull', reason: 'stalled' }) === 1, 'a stall cut counted as stalled')
  stalled.destroy()

  const watcher = await RawClient.get(port, '/off')
  await eventually(async () => await value('offline', { route: '/off' }) === 1, 'the source said offline()')
  await eventually(async () => (await value('offline_seconds_total', { route: '/off' }) ?? 0) > 0, 'its offline time grows')
  t.equal(await value('source_starts_total', { route: '/off' }), 1, 'its producer started once')

  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await res.text()
  samples = parseExposition(text)
  t.equal(valueOf(samples, `${P}parts_sent_total`, { route: '/live' }), parts, 'the same counters over HTTP')
  t.equal(valueOf(samples, `${P}viewers`, { route: '/off' }), 1)
  const lint = await promtoolCheck(text)
  t.same(lint, { code: 0, output: '' }, 'promtool finds nothing to say')

  watcher.destroy()
  await close()
  samples = await scrape()
  t.same(samples.filter((sample) => sample.labels.route !== undefined && sample.labels.route !== '/signed.jpg'), [], 'closed routes are no longer reported')
  metrics.close()
  t.same(registry.getMetricsAsArray(), [], 'close() took the metrics off the registry')
})

t.test('registering: options checked with coded errors, once per registry and prefix, prom-client\'s register by default', async (t) => {
  const registry = new Registry()
  const invalid = (message: RegExp) => ({ code: 'FST_SERVER_PUSH_INVALID_OPTION', message })
  t.throws(() => registerMetrics(null as never), invalid(/registerMetrics\(\): options must be an object, got null/))
  t.throws(() => registerMetrics({ registry, buckets: [1] } as never), invalid(/unknown option "buckets"/))
  t.throws(() => registerMetrics({ registry: {} as never }), invalid(/registry must be a prom-client Registry/))
  t.throws(() => registerMetrics({ registry: 'default' as never }), invalid(/registry must be a prom-client Registry/))
  for (const prefix of ['1st_', 'my-app_', 'a:b_', 7]) {
    t.throws(() => registerMetrics({ registry, prefix: prefix as never }), invalid(/prefix must be letters, digits and underscores/), String(prefix))
  }
  for (const ageBuckets of [[], [0.1, 0.1], [1, 0.5], [0, 1], [-1], [0.1, Infinity], ['1'], 0.5]) {
    t.throws(() => registerMetrics({ registry, ageBuckets: ageBuckets as never }), invalid(/ageBuckets must be increasing finite numbers of seconds above 0/), JSON.stringify(ageBuckets))
  }
  t.same(registry.getMetricsAsArray(), [], 'nothing registered by a call that threw')

  const first = registerMetrics({ registry, ageBuckets: [0.5, 1] })
  t.throws(() => registerMetrics({ registry }), invalid(/the registry already has a metric named fastify_server_push_viewers/), 'twice on one registry')
  const other = registerMetrics({ registry, prefix: 'cams_' })
  const unprefixed = registerMetrics({ registry, prefix: '' })
  t.ok(registry.getSingleMetric('cams_viewers') !== undefined && registry.getSingleMetric('viewers') !== undefined, 'another prefix, or none, is another set')
  t.match(await registry.metrics(), /# TYPE fastify_server_push_part_age_seconds histogram/)
  first.close()
  t.equal(registry.getSingleMetric('fastify_server_push_viewers'), undefined)
  const again = registerMetrics({ registry })
  first.close()
  t.ok(registry.getSingleMetric('fastify_server_push_viewers') !== undefined, 'a second close() leaves the metrics registered since alone')
  for (const each of [again, other, unprefixed]) each.close()
  t.same(registry.getMetricsAsArray(), [])

  const global = registerMetrics()
  t.ok(register.getSingleMetric('fastify_server_push_viewers') !== undefined, 'on prom-client\'s global register by default')
  global.close()
  t.equal(register.getSingleMetric('fastify_server_push_viewers'), undefined)
})

/** A node:http server routing each path to its handler. */
async function serveHandlers (t: Test, handlers: Record<string, http.RequestListener>): Promise<number> {
  const server: Server = http.createServer((req, res) => {
    const handler = handlers[req.url ?? '']
    if (handler === undefined) res.writeHead(404).end()
    else handler(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return (server.address() as { port: number }).port
}

t.test('node:http handlers: one URL label shared, a route opened before the metrics unseen, producers, relays and Redis counted', async (t) => {
  // Opened before registerMetrics(): its route:open went by unheard, so nothing of it is reported.
  const early = createLiveSource()
  const unseen = createPushHandler({ name: '/early', source: early, contentType: 'text/plain' })
  await unseen.ready
  const registry = new Registry()
  const metrics = registerMetrics({ registry })
  t.teardown(() => metrics.close())
  const scrape = async (): Promise<Sample[]> => parseExposition(await registry.metrics())
  const value = async (name: string, labels: Record<string, string>): Promise<number | undefined> => valueOf(await scrape(), P + name, labels)
  const closed = await freePort()
  const handlers = {
    // Given no name, both are `server-push`: reported as one route, their counters added up.
    '/a': createPushHandler({ source: () => 'a', contentType: 'text/plain', intervalMs: 50 }),
    '/b': createPushHandler({ source: () => 'b', contentType: 'text/plain', intervalMs: 50 }),
    '/relay': createPushHandler({ name: '/relay', source: relay(`http://127.0.0.1:${closed}/cam.mjpg`) }),
    '/redis': createPushHandler({ name: '/redis', source: redisSource({ url: `redis://127.0.0.1:${closed}`, channel: 'cam' }) }),
    '/command': createPushHandler({ name: '/command', source: fromCommand(process.execPath, ['-e', 'process.exit(3)'], { restartDelayMs: 1 }) }),
    '/failing': createPushHandler({ name: '/failing', source: liveFrom(async function * () { yield 'x'; throw new Error('camera unplugged') }), contentType: 'text/plain' }),
    '/early': unseen
  }
  await Promise.all(Object.values(handlers).map((handler) => handler.ready))
  t.teardown(() => Promise.all(Object.values(handlers).map((handler) => handler.close())))
  const port = await serveHandlers(t, handlers)

  const a = await RawClient.get(port, '/a')
  const b = await RawClient.get(port, '/b')
  await Promise.all([a.parts(2), b.parts(2)])
  t.equal(await value('viewers', { route: 'server-push' }), 2, 'the two unnamed routes\' viewers added up')
  const sentBefore = await value('parts_sent_total', { route: 'server-push' }) ?? 0
  await handlers['/a'].close()
  await a.closed
  // Read before the scrape: b gets more parts meanwhile, a none; a's last part, repeated before its close
  // delimiter, is no part sent.
  const got = (a.response()?.multipart.parts.length ?? 0) - 1 + (b.response()?.multipart.parts.length ?? 0)
  let samples = await scrape()
  t.equal(valueOf(samples, `${P}viewers`, { route: 'server-push' }), 1, 'one of them closed: the other is still reported')
  t.equal(valueOf(samples, `${P}streams_ended_total`, { route: 'server-push', reason: 'server-closing' }), 1)
  t.ok((valueOf(samples, `${P}parts_sent_total`, { route: 'server-push' }) ?? 0) >= sentBefore, 'a counter of the label keeps the closed route\'s parts: it never goes down')
  t.ok((valueOf(samples, `${P}parts_sent_total`, { route: 'server-push' }) ?? 0) >= got, 'at least the parts both viewers got')
  b.destroy()

  const watcher = await RawClient.get(port, '/early')
  await watcher.opened()
  early.publish('seen by no metric')
  await watcher.parts(1)
  watcher.destroy()
  await eventually(() => unseen.stats().viewers === 0)
  await unseen.close()
  samples = await scrape()
  t.same(samples.filter((sample) => sample.labels.route === '/early'), [], 'a route opened before the metrics: not reported')

  const viewers = await Promise.all(['/relay', '/redis', '/command', '/failing'].map((path) => RawClient.get(port, path)))
  await eventually(async () => (await value('relay_losses_total', { route: '/relay' }) ?? 0) >= 1, 'a relay that cannot reach its upstream')
  await eventually(async () => (await value('redis_outages_total', { channel: 'cam', role: 'source' }) ?? 0) >= 1, 'a Redis source that cannot reach Redis')
  await eventually(async () => (await value('source_restarts_total', { route: '/command' }) ?? 0) >= 2, 'a command that exits, restarted')
  await eventually(async () => (await value('source_failures_total', { route: '/failing' }) ?? 0) >= 1, 'a producer that throws')
  samples = await scrape()
  t.equal(valueOf(samples, `${P}relay_connects_total`, { route: '/relay' }), undefined, 'never connected')
  t.ok((valueOf(samples, `${P}source_starts_total`, { route: '/command' }) ?? 0) >= 1)
  for (const viewer of viewers) viewer.destroy()
  await handlers['/b'].close()
  t.equal(valueOf(await scrape(), `${P}viewers`, { route: 'server-push' }), undefined, 'the last route of a label closed: the label is gone')
  await handlers['/relay'].close()
  const late = await RawClient.get(port, '/relay')
  t.match((await late.end()).statusLine, /503/)
  t.equal(valueOf(await scrape(), `${P}viewers_refused_total`, { route: '/relay', reason: 'server-closing' }), undefined, 'a refusal of a closed route brings no series back')
})
