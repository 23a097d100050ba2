// The push routes the metrics report, by label: the URL their route:open event carried. Routes that share one
// (node:http handlers given no `name` are all `server-push`, a handler swapped for a new one) are reported as one,
// their counters added up, those of a route that closed while others of its label stay open included: a
// counter's series never goes down.
import type { RouteStats } from '../core/counters.js'

/** A route's `stats()`, as its route:open and route:close events carry it. */
export type StatsGetter = () => RouteStats

/** The routes of one label: the open ones, and the last stats of those that closed while others stayed open. */
interface Label {
  readonly open: Set<StatsGetter>
  readonly closed: RouteStats[]
}

/** A label's routes' stats, read now: the counters add up both, the gauges read the open ones. */
export interface LabelStats {
  readonly open: readonly RouteStats[]
  readonly closed: readonly RouteStats[]
}

export class OpenRoutes {
  private readonly byLabel = new Map<string, Label>()

  /** Adds a route; true when it is the first open route of its label. */
  open (label: string, stats: StatsGetter): boolean {
    const routes = this.byLabel.get(label)
    if (routes !== undefined) {
      routes.open.add(stats)
      return false
    }
    this.byLabel.set(label, { open: new Set([stats]), closed: [] })
    return true
  }

  /** Removes a route; true when it was the last open route of its label. A route never seen (opened before the
   * metrics were registered) changes nothing. */
  close (label: string, stats: StatsGetter): boolean {
    const routes = this.byLabel.get(label)
    if (routes === undefined || !routes.open.delete(stats)) return false
    if (routes.open.size > 0) {
      routes.closed.push(stats())
      return false
    }
    this.byLabel.delete(label)
    return true
  }

  /** Each label with the stats of its routes, read now. */
  * read (): Generator<[string, LabelStats]> {
    for (const [label, { open, closed }] of this.byLabel) yield [label, { open: [...open].map((stats) => stats()), closed }]
  }
}
