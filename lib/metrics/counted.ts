// The metrics counted as the lifecycle events come (core/events.ts): streams started and ended, refusals, the
// producers', relays' and Redis links' ups and downs, and the pictures' age at send. A route's series exist from
// its route:open to its route:close; events of routes the metrics never saw open are not counted, but refusals,
// which snapshot routes have too.
import { Counter, Histogram, type Registry } from 'prom-client'
import { subscribeEvent, type EventName, type RefuseReason, type SourceEventBase } from '../core/events.js'
import type { EndReason } from '../core/stream.js'

// Spelt out as records so that the lists cannot fall behind the unions: every reason's series exists from the
// route's start, at 0, as Prometheus would have it.
const END_REASONS = Object.keys({
  'client-gone': true, 'source-ended': true, 'source-error': true, 'server-closing': true, stalled: true, 'max-duration': true
} satisfies Record<EndReason, true>)
const REFUSE_REASONS = Object.keys({
  'max-clients': true, 'max-streams-per-connection': true, 'server-closing': true, signature: true
} satisfies Record<RefuseReason, true>)

/** The source events counted, each by the name of its metric less the prefix. */
const SOURCE_COUNTS: ReadonlyArray<{ event: EventName & `fastify-server-push:${'source' | 'relay'}:${string}`, name: string, help: string }> = [
  { event: 'fastify-server-push:source:start', name: 'source_starts_total', help: 'Times a live source\'s producer started.' },
  { event: 'fastify-server-push:source:stop', name: 'source_stops_total', help: 'Times a live source\'s producer stopped.' },
  { event: 'fastify-server-push:source:fail', name: 'source_failures_total', help: 'Times a live source\'s producer failed.' },
  { event: 'fastify-server-push:source:restart', name: 'source_restarts_total', help: 'Times a command source\'s command exited and was started again.' },
  { event: 'fastify-server-push:relay:connect', name: 'relay_connects_total', help: 'Times a relay reached its upstream.' },
  { event: 'fastify-server-push:relay:lose', name: 'relay_losses_total', help: 'Times a relay lost its upstream (or never reached it) and tried again.' }
]

/** Every metric counted from events, by its name less the prefix. */
export const COUNTED_NAMES: readonly string[] = [
  'streams_started_total', 'streams_ended_total', 'viewers_refused_total', ...SOURCE_COUNTS.map(({ name }) => name),
  'redis_outages_total', 'part_age_seconds'
]

/** The counted metrics of one registration, and the events' subscriptions that count them. */
export class CountedMetrics {
  private readonly started: Counter<'route'>
  private readonly ended: Counter<'route' | 'reason'>
  private readonly refused: Counter<'route' | 'reason'>
  private readonly sources: Array<Counter<'route'>> = []
  private readonly ages: Histogram<'route'>
  /** The labels whose routes have all closed, and not opened again. */
  private readonly closed = new Set<string>()
  /** Each open route's age histogram, found once per part by its label. */
  private readonly agesOf = new Map<string, { observe: (seconds: number) => void }>()
  /** Unsubscribes each event this counts. */
  readonly unsubscribe: Array<() => void> = []

  constructor (registry: Registry, prefix: string, ageBuckets: number[]) {
    const registers = [registry]
    const route = ['route'] as const
    this.started = new Counter({ name: `${prefix}streams_started_total`, help: 'Streams started.', labelNames: route, registers })
    this.ended = new Counter({
      name: `${prefix}streams_ended_total`,
      help: 'Streams ended, by why: client-gone, stalled (cut off for not reading), server-closing, max-duration, source-ended, source-error.',
      labelNames: ['route', 'reason'],
      registers
    })
    this.refused = new Counter({
      name: `${prefix}viewers_refused_total`,
      help: 'Requests refused a stream, by why: max-clients, max-streams-per-connection, server-closing, signature.',
      labelNames: ['route', 'reason'],
      registers
    })
    const redis = new Counter({
      name: `${prefix}redis_outages_total`,
      help: 'Times a Redis source (role="source") or publisher (role="publisher") lost its Redis connection.',
      labelNames: ['channel', 'role'],
      registers
    })
    this.ages = new Histogram({
      name: `${prefix}part_age_seconds`,
      help: 'How long after its live source published a frame it was written to a viewer.',
      labelNames: route,
      buckets: ageBuckets,
      registers
    })
    for (const { event, name, help } of SOURCE_COUNTS) {
      const counter = new Counter({ name: prefix + name, help, labelNames: route, registers })
      this.sources.push(counter)
      this.count(event, counter)
    }
    this.unsubscribe.push(
      subscribeEvent('fastify-server-push:viewer:open', ({ route }) => { if (this.agesOf.has(route)) this.started.inc({ route }) }),
      subscribeEvent('fastify-server-push:viewer:close', ({ route, reason }) => { if (this.agesOf.has(route)) this.ended.inc({ route, reason }) }),
      // A snapshot route's too (it sends no route:open): a refusal is what an operator wants to see. Not a closed
      // route's (a late request answered 503 as it closes): its series are gone, and would come back for good.
      subscribeEvent('fastify-server-push:viewer:refuse', ({ route, reason }) => { if (!this.closed.has(route)) this.refused.inc({ route, reason }) }),
      subscribeEvent('fastify-server-push:part:send', ({ route, ageMs }) => { this.agesOf.get(route)?.observe(ageMs / 1000) }),
      subscribeEvent('fastify-server-push:redis:lose', ({ channel, role }) => { redis.inc({ channel, role }) })
    )
  }

  private count (event: EventName & `fastify-server-push:${'source' | 'relay'}:${string}`, counter: Counter<'route'>): void {
    const listener = ({ route }: SourceEventBase): void => { if (this.agesOf.has(route)) counter.inc({ route }) }
    this.unsubscribe.push(subscribeEvent(event, listener))
  }

  /** A route's label is reported from now on: its streams' and refusals' series start at 0. */
  open (route: string): void {
    this.closed.delete(route)
    this.agesOf.set(route, this.ages.labels({ route }))
    this.started.inc({ route }, 0)
    for (const reason of END_REASONS) this.ended.inc({ route, reason }, 0)
    for (const reason of REFUSE_REASONS) this.refused.inc({ route, reason }, 0)
  }

  /** A route's label is no longer reported: its series are removed. */
  close (route: string): void {
    this.closed.add(route)
    this.agesOf.delete(route)
    this.started.remove({ route })
    for (const reason of END_REASONS) this.ended.remove({ route, reason })
    for (const reason of REFUSE_REASONS) this.refused.remove({ route, reason })
    for (const counter of this.sources) counter.remove({ route })
    this.ages.remove({ route })
  }
}
