// The plugin as plugin.mjs serves it, with a listener on every lifecycle event (what the Prometheus metrics do:
// count each event, and keep each part's age in a histogram's buckets): the cost of being subscribed.
import Fastify from 'fastify'
import serverPush, { createLiveSource, EVENT_NAMES, subscribeEvent } from 'fastify-server-push'
import { capture, every, makeFrames, serve, settings } from '../common.mjs'

const counts = new Map(EVENT_NAMES.map((name) => [name, 0]))
const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000]
const ages = new Array(BUCKETS_MS.length + 1).fill(0)
for (const name of EVENT_NAMES) subscribeEvent(name, () => { counts.set(name, counts.get(name) + 1) })
subscribeEvent('fastify-server-push:part:send', ({ ageMs }) => {
  const bucket = BUCKETS_MS.findIndex((le) => ageMs <= le)
  ages[bucket === -1 ? BUCKETS_MS.length : bucket]++
})

const { fps, size, count, http2 } = settings()
const frames = makeFrames(size, count)
const live = createLiveSource()
const app = Fastify({ logger: false, http2: http2 === true })
await app.register(serverPush, { routes: [{ path: '/live', source: live, boundary: 'bench' }] })
await app.listen({ port: 0, host: '127.0.0.1' })
serve(app.server.address().port, () => every(fps, (n) => live.publish(capture(frames, n))))
