// The metrics read from the routes' `stats()` when Prometheus scrapes (prom-client's collect()): the counters the
// streams keep anyway, so the metrics cost nothing per part.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { RouteStats } from '../core/counters.js'
import type { LabelStats, OpenRoutes } from './open-routes.js'

interface Scraped {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge'
  /** The label's value from its routes' stats (usually one route's). */
  readonly value: (stats: LabelStats) => number
}

/** A counter: the sum over the label's routes, those closed while others of its label stay open included. */
const sum = (field: (stats: RouteStats) => number) => ({ open, closed }: LabelStats): number =>
  [...open, ...closed].reduce((total, one) => total + field(one), 0)

/** A gauge of how many: the sum over the label's open routes. */
const now = (field: (stats: RouteStats) => number) => ({ open }: LabelStats): number => open.reduce((total, one) => total + field(one), 0)

/** Every metric read from `stats()`, by its name less the prefix. */
export const SCRAPED: readonly Scraped[] = [
  { name: 'viewers', type: 'gauge', help: 'Streams open now.', value: now((s) => s.viewers) },
  { name: 'parts_sent_total', type: 'counter', help: 'Parts written to viewers, idle repeats included.', value: sum((s) => s.partsSent) },
  { name: 'sent_bytes_total', type: 'counter', help: 'Bytes written for those parts: headers, bodies and delimiters.', value: sum((s) => s.bytesSent) },
  { name: 'parts_repeated_total', type: 'counter', help: 'Parts that repeated the last one to a viewer whose source was quiet for idleRepeatMs.', value: sum((s) => s.partsRepeated) },
  { name: 'frames_skipped_total', type: 'counter', help: 'Frames a live viewer never got: it was busy with an earlier one (latest frame wins), or held back by its rate.', value: sum((s) => s.framesSkipped) },
  { name: 'frames_published_total', type: 'counter', help: 'Frames the route\'s live source published.', value: sum((s) => s.framesPublished) },
  { name: 'frames_refused_total', type: 'counter', help: 'Frames the live source\'s producer made that were not fit to publish.', value: sum((s) => s.framesRefused) },
  { name: 'frames_capped_total', type: 'counter', help: 'Frames the live source never published for its maxFps.', value: sum((s) => s.framesCapped) },
  { name: 'frames_dropped_total', type: 'counter', help: 'Frames published to Redis that never reached this process.', value: sum((s) => s.framesDropped) },
  { name: 'offline', type: 'gauge', help: 'Whether the route\'s live source is offline now (1) or not (0).', value: ({ open }) => open.some((s) => s.offline) ? 1 : 0 },
  { name: 'offline_seconds_total', type: 'counter', help: 'How long the route\'s live source has been offline, the outage going on included.', value: sum((s) => s.offlineMs / 1000) }
]

/** Registers the metrics of SCRAPED on `registry`, each reading the open routes' stats as it is collected. */
export function registerScraped (registry: Registry, prefix: string, routes: OpenRoutes): void {
  for (const { name, help, type, value } of SCRAPED) {
    const config = { name: prefix + name, help, labelNames: ['route'], registers: [registry] }
    if (type === 'gauge') {
      // eslint-disable-next-line no-new -- registered on the registry, which holds it
      new Gauge({
        ...config,
        collect () {
          this.reset()
          for (const [route, stats] of routes.read()) this.set({ route }, value(stats))
        }
      })
    } else {
      // eslint-disable-next-line no-new -- registered on the registry, which holds it
      new Counter({
        ...config,
        // A counter has no set(): it is made again from the routes' own counters at each scrape.
        collect () {
          this.reset()
          for (const [route, stats] of routes.read()) this.inc({ route }, value(stats))
        }
      })
    }
  }
}
