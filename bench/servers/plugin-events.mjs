// The plugin as plugin.mjs serves it, with a listener on every lifecycle event (what the Prometheus metrics do:
// count each event, and keep each part's age in a histogram's buckets): the cost of being subscribed.
import { EVENT_NAMES, subscribeEvent } from 'fastify-server-push'

const counts = new Map(EVENT_NAMES.map((name) => [name, 0]))
const BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000]
const ages = new Array(BUCKETS_MS.length + 1).fill(0)
for (const name of EVENT_NAMES) subscribeEvent(name, () => { counts.set(name, counts.get(name) + 1) })
subscribeEvent('fastify-server-push:part:send', ({ ageMs }) => {
  const bucket = BUCKETS_MS.findIndex((le) => ageMs <= le)
  ages[bucket === -1 ? BUCKETS_MS.length : bucket]++
})
// Subscribed before the route opens, as an app would be.
await import('./plugin.mjs')
