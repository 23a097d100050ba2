// Compiled against the built package's metrics entry (dist/esm/metrics.d.ts) as a user exporting to Prometheus
// sees it, with a registry of their own.
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { DEFAULT_AGE_BUCKETS, DEFAULT_PREFIX, METRIC_NAMES, registerMetrics, type MetricsOptions, type ServerPushMetrics } from 'fastify-server-push/metrics'

const registry = new Registry()
const options: MetricsOptions = { registry, prefix: 'cams_', ageBuckets: [...DEFAULT_AGE_BUCKETS, 30] }
const metrics: ServerPushMetrics = registerMetrics(options)
registerMetrics()
const app = Fastify()
app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
metrics.close()
const names: readonly string[] = METRIC_NAMES.map((name) => DEFAULT_PREFIX + name)
// @ts-expect-error buckets are numbers of seconds
registerMetrics({ ageBuckets: ['1s'] })
// @ts-expect-error the registry is prom-client's
registerMetrics({ registry: 'default' })
export { names }
