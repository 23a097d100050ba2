// The plugin as plugin.mjs serves it, with its Prometheus metrics registered (fastify-server-push/metrics, one
// subscriber of the lifecycle events) and scraped every second, as Prometheus would: what the metrics cost.
import { registerMetrics } from 'fastify-server-push/metrics'
import { Registry } from 'prom-client'

const registry = new Registry()
registerMetrics({ registry })
setInterval(() => { registry.metrics() }, 1000).unref()
// Registered before the route opens, as an app would.
await import('./plugin.mjs')
