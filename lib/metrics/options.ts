// What registerMetrics() takes, and its one check: a wrong option fails at once with a coded error, never with
// prom-client's own throw halfway through registering.
import type { Registry } from 'prom-client'
import { checkFactoryOptions, invalidOption, isObject } from '../core/check.js'

/** What `registerMetrics()` takes. */
export interface MetricsOptions {
  /** The prom-client registry the metrics are registered on. Default: prom-client's global `register`. */
  registry?: Registry
  /** Put before every metric's name. Default `fastify_server_push_`. */
  prefix?: string
  /** The upper bounds of the picture-age histogram's buckets, in seconds, increasing. Default 0.005 to 10. */
  ageBuckets?: number[]
}

export const DEFAULT_PREFIX = 'fastify_server_push_'
/** From a frame written at once on loopback to one that waited out a slow viewer's stall timeout. */
export const DEFAULT_AGE_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const WHERE = 'registerMetrics()'
// Prometheus' metric names, less the colons it keeps for recording rules; empty is no prefix.
const PREFIX = /^(?:[a-zA-Z_][a-zA-Z0-9_]*)?$/

/** Whether `value` does what the metrics ask of a registry (a duck test: the app's prom-client may be another copy). */
function isRegistry (value: unknown): value is Registry {
  if (typeof value !== 'object' || value === null) return false
  return ['registerMetric', 'getSingleMetric', 'removeSingleMetric', 'metrics'].every((name) => typeof Reflect.get(value, name) === 'function')
}

/** The options checked, defaults filled in but the registry, which the entry fills in from prom-client. */
export function checkMetricsOptions (options: unknown): { registry: Registry | undefined, prefix: string, ageBuckets: number[] } {
  checkFactoryOptions(WHERE, options, { registry: true, prefix: true, ageBuckets: true } satisfies Record<keyof MetricsOptions, true>)
  const { registry, prefix = DEFAULT_PREFIX, ageBuckets = DEFAULT_AGE_BUCKETS } = isObject(options) ? options : {}
  if (registry !== undefined && !isRegistry(registry)) throw invalidOption(WHERE, 'registry must be a prom-client Registry')
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw invalidOption(WHERE, `prefix must be letters, digits and underscores, not starting with a digit, got ${JSON.stringify(prefix)}`)
  }
  const buckets = bucketsOf(ageBuckets)
  if (buckets === undefined) {
    throw invalidOption(WHERE, `ageBuckets must be increasing finite numbers of seconds above 0, got ${JSON.stringify(ageBuckets)}`)
  }
  return { registry, prefix, ageBuckets: buckets }
}

/** `value` as histogram bounds: a non-empty array of finite numbers above 0, each above the one before; else undefined. */
function bucketsOf (value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const buckets: number[] = []
  for (const bound of value) {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= (buckets.at(-1) ?? 0)) return undefined
    buckets.push(bound)
  }
  return buckets
}
