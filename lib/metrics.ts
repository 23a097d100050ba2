// `fastify-server-push/metrics`: the package's Prometheus metrics on a prom-client registry. Only this entry loads
// prom-client (an optional peer dependency).
export { registerMetrics, METRIC_NAMES, type ServerPushMetrics } from './metrics/register.js'
export { DEFAULT_AGE_BUCKETS, DEFAULT_PREFIX, type MetricsOptions } from './metrics/options.js'
