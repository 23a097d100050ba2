// registerMetrics(): the package's Prometheus metrics on a prom-client registry, one subscriber of the lifecycle
// events (core/events.ts). Routes are known from their route:open event, so the metrics see the routes opened
// after they were registered.
import { register } from 'prom-client'
import { invalidOption } from '../core/check.js'
import { subscribeEvent } from '../core/events.js'
import { CountedMetrics, COUNTED_NAMES } from './counted.js'
import { OpenRoutes } from './open-routes.js'
import { checkMetricsOptions, type MetricsOptions } from './options.js'
import { registerScraped, SCRAPED } from './scraped.js'

/** What `registerMetrics()` returns. */
export interface ServerPushMetrics {
  /** Stops counting and removes the metrics from their registry. */
  close (): void
}

/** Every metric's name, less the prefix. */
export const METRIC_NAMES: readonly string[] = [...SCRAPED.map(({ name }) => name), ...COUNTED_NAMES]

/**
 * Registers the package's metrics on a prom-client registry (prom-client's global `register` unless `registry`
 * says otherwise), each named `prefix` + its name. Register before the app's routes open (before `listen()` or
 * `ready()`, or before `createPushHandler()`): a route opened earlier is not seen. Throws
 * FST_SERVER_PUSH_INVALID_OPTION for a wrong option, and when the registry already has a metric of one of its
 * names (registered twice with one prefix).
 */
export function registerMetrics (options?: MetricsOptions): ServerPushMetrics {
  const { registry = register, prefix, ageBuckets } = checkMetricsOptions(options)
  const taken = METRIC_NAMES.find((name) => registry.getSingleMetric(prefix + name) !== undefined)
  if (taken !== undefined) {
    throw invalidOption('registerMetrics()', `the registry already has a metric named ${prefix + taken}: register the metrics once per registry, or give another prefix`)
  }
  const routes = new OpenRoutes()
  registerScraped(registry, prefix, routes)
  const counted = new CountedMetrics(registry, prefix, ageBuckets)
  const unsubscribe = [
    ...counted.unsubscribe,
    subscribeEvent('fastify-server-push:route:open', ({ route, stats }) => { if (routes.open(route, stats)) counted.open(route) }),
    subscribeEvent('fastify-server-push:route:close', ({ route, stats }) => { if (routes.close(route, stats)) counted.close(route) })
  ]
  let open = true
  return {
    close () {
      // Once: a second close() must not remove the metrics someone registered under these names since.
      if (!open) return
      open = false
      for (const stop of unsubscribe) stop()
      for (const name of METRIC_NAMES) registry.removeSingleMetric(prefix + name)
    }
  }
}
