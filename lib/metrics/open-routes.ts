// The push routes the metrics report, by label: the URL their route:open event carried. Routes that share one
// (node:http handlers given no `name` are all `server-push`) are reported as one, their counters added up.
import type { RouteStats } from '../core/counters.js'

/** A route's `stats()`, as its route:open and route:close events carry it. */
export type StatsGetter = () => RouteStats

export class OpenRoutes {
  private readonly byLabel = new Map<string, Set<StatsGetter>>()

  /** Adds a route; true when it is the first open route of its label. */
  open (label: string, stats: StatsGetter): boolean {
    const routes = this.byLabel.get(label)
    if (routes !== undefined) {
      routes.add(stats)
      return false
    }
    this.byLabel.set(label, new Set([stats]))
    return true
  }

  /** Removes a route; true when it was the last open route of its label. A route never seen (opened before the
   * metrics were registered) changes nothing. */
  close (label: string, stats: StatsGetter): boolean {
    const routes = this.byLabel.get(label)
    routes?.delete(stats)
    if (routes?.size !== 0) return false
    this.byLabel.delete(label)
    return true
  }

  /** Each label with the stats of its routes, read now. */
  * read (): Generator<[string, RouteStats[]]> {
    for (const [label, routes] of this.byLabel) yield [label, [...routes].map((stats) => stats())]
  }
}
