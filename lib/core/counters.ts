// Per-route counters, kept by the streams as they write and read by `stats()`.

/** What `stats()` reports for one route. */
export interface RouteStats {
  /** Streams open now. */
  viewers: number
  /** Frames the route's live source has published; 0 for other sources. */
  framesPublished: number
  /** Frames the route's live source's producer made that were not fit to publish, skipped; 0 for other sources. */
  framesRefused: number
  /** Frames lost before they reached this process (a Redis source's while Redis was out of reach or had cut this
   * process off), as counted from the gaps in the publisher's numbering; 0 for other sources. */
  framesDropped: number
  /** Frames the route's live source never published for its `maxFps`: held for their turn, then replaced by a newer
   * one; 0 for other sources. */
  framesCapped: number
  /** Parts written to clients (the last part repeated at the end is not counted). */
  partsSent: number
  /** Of partsSent, how many repeated the last part to a viewer whose source was quiet for idleRepeatMs. */
  partsRepeated: number
  /** Frames a live viewer never got: it was still busy with an earlier one, or held back by maxFps/intervalMs. */
  framesSkipped: number
  /** Bytes written for those parts: headers, bodies and delimiters. */
  bytesSent: number
  /** Requests answered 503 because the route already had `maxClients` viewers. */
  viewersRefused: number
  /** Whether the route's live source is offline now (its producer not delivering); false for other sources. */
  offline: boolean
  /** When it went offline (Date.now(), epoch ms); null while online, and for other sources. */
  offlineSince: number | null
  /** How long the route's live source has been offline in all since it was made, the outage going on included, in
   * ms; 0 for other sources. */
  offlineMs: number
}

export class RouteCounters {
  viewers = 0
  partsSent = 0
  partsRepeated = 0
  framesSkipped = 0
  bytesSent = 0
  viewersRefused = 0

  /** The route's live source, whose frame counts the route reports; none for other sources. */
  source: {
    readonly published: number
    readonly framesRefused: number
    readonly framesDropped: number
    readonly framesCapped: number
    readonly offlineSince: number | undefined
    readonly offlineMs: number
  } | undefined

  read (): RouteStats {
    const { viewers, partsSent, partsRepeated, framesSkipped, bytesSent, viewersRefused, source } = this
    return {
      viewers,
      framesPublished: source?.published ?? 0,
      framesRefused: source?.framesRefused ?? 0,
      framesDropped: source?.framesDropped ?? 0,
      framesCapped: source?.framesCapped ?? 0,
      partsSent,
      partsRepeated,
      framesSkipped,
      bytesSent,
      viewersRefused,
      offline: source?.offlineSince !== undefined,
      offlineSince: source?.offlineSince ?? null,
      offlineMs: source?.offlineMs ?? 0
    }
  }
}
