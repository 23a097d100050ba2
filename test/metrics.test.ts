// fastify-server-push/metrics on a real app: viewers over sockets, the registry's text scraped as Prometheus
// would (from the registry and over HTTP), parsed, and checked by promtool; the values are what the viewers saw.
import http, { type Server } from 'node:http'
import { once } from 'node:events'
import { Registry, register } from 'prom-client'
import t from 'tap'
import { createLiveSource, fromCommand, liveFrom, relay } from '../lib/index.js'
import { createPushHandler } from '../lib/node.js'
import { registerMetrics } from '../lib/metrics.js'
import { redisSource } from '../lib/redis.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { freePort } from './helpers/child.js'
import { parseExposition, promtoolCheck, valueOf, type Sample } from './helpers/prometheus.js'
import { RawClient } from './helpers/wire-client.js'

const P = 'fastify_server_push_'

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
      { path: '/off', source: offlineSource, contentType: 'text/html' }
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
  t.same(samples.filter((sample) => sample.labels.route !== undefined), [], 'closed routes are no longer reported')
  metrics.close()
  t.same(registry.getMetricsAsArray(), [], 'close() took the metrics off the registry')
})
