// What every push stream shares, whatever feeds it: noticing the client leave, writing parts in its framing,
// repeating the last one while the source is quiet, cutting off a client that stopped reading, and ending once,
// well-formed, with one log line.
import { performance } from 'node:perf_hooks'
import type { RouteCounters } from './counters.js'
import { events } from './events.js'
import type { Framing } from './framing.js'
import type { Logger } from './logger.js'
import { repeatAfter } from './settings.js'
import type { Sink } from './sink.js'
import type { EncodedPart, Multipart } from './wire.js'

/** Why a stream ended, as logged in its last line. */
export type EndReason = 'client-gone' | 'source-ended' | 'source-error' | 'server-closing' | 'stalled' | 'max-duration'

/** What a stream needs to know of its route. */
export interface StreamRoute {
  /** How log lines name the route: its URL under Fastify, the handler's name under node:http. */
  readonly path: string
  readonly multipart: Multipart
  /** 0 = never cut off. */
  readonly stallTimeoutMs: number
  /** For parts at the route's own pace; 0 = never repeat. */
  readonly idleRepeatMs: number
  /** How long a stream may stay open; 0 = no limit. */
  readonly maxStreamMs: number
  /** For frames that carry none. */
  readonly contentType: string
  readonly counters: RouteCounters
}

/** What a stream is made with, whatever feeds it: where its bytes go, the route, the viewer's framing and pace,
 * the request's logger, and what to call once it has ended. */
export interface StreamContext {
  readonly sink: Sink
  readonly route: StreamRoute
  readonly framing: Framing
  /** Least time between two parts to this viewer: the route's (intervalMs, maxFps), or its own `?fps=`'s if longer. */
  readonly gapMs: number
  readonly log: Logger
  readonly onEnd: (stream: PushStream) => void
}

/** The last stream's id: ids are process-unique, for events to pair a stream's open and close. */
let lastId = 0

export abstract class PushStream {
  readonly id = ++lastId
  protected readonly sink: Sink
  protected readonly route: StreamRoute
  protected readonly framing: Framing
  protected readonly gapMs: number
  protected readonly log: Logger
  private readonly onEnd: (stream: PushStream) => void
  /** The route's idle repeat, raised to two of this viewer's gaps: a viewer at its own pace is never repeated. */
  private readonly idleRepeatMs: number
  protected ended = false
  private readonly startedAt = performance.now()
  private lastPart: EncodedPart | undefined
  private parts = 0
  private bytes = 0
  /**
   * What the watchdog last saw of the stream's progress (parts, bytes still queued, what its connection had
   * handed on), and when it first saw it.
   */
  private markParts = -1
  private markLength = -1
  private markQueued = -1
  private markPassed: number | undefined = -1
  private markAt = 0

  constructor ({ sink, route, framing, gapMs, log, onEnd }: StreamContext) {
    this.sink = sink
    this.route = route
    this.framing = framing
    this.gapMs = gapMs
    this.log = log
    this.onEnd = onEnd
    this.idleRepeatMs = repeatAfter(route.idleRepeatMs, gapMs)
  }

  start (): void {
    this.route.counters.viewers++
    this.sink.onClientGone(this.clientGone)
    if (this.sink.destroyed) return this.end('client-gone')
    this.sink.join(this.stalledOut)
    this.run()
  }

  /** Ends the stream once; later calls do nothing. A failed source ends it through `fail()`, which logs why. */
  end (reason: EndReason): void {
    // Every caller today ends a stream at most once; the guard keeps the next one from counting a viewer twice.
    /* c8 ignore next */
    if (this.ended) return
    this.ended = true
    const { sink, log, route } = this
    sink.offClientGone(this.clientGone)
    this.stop(reason)
    route.counters.viewers--
    if (reason === 'client-gone' || reason === 'stalled') {
      sink.cut()
    } else {
      // The closing part would be more than an HTTP/2 connection holding its budget may take: reset instead.
      if (!sink.roomToClose()) sink.cut()
      else sink.end(this.framing.closing(this.closingPart()))
      if (reason === 'server-closing') sink.closeConnection()
    }
    const { id, parts, bytes } = this
    const durationMs = Math.round(performance.now() - this.startedAt)
    log.info({ route: route.path, reason, framing: this.framing.name, parts, bytes, durationMs }, 'server push stream ended')
    if (events.viewerClose.hasSubscribers) events.viewerClose.publish({ route: route.path, id, reason, parts, bytes, durationMs })
    this.onEnd(this)
  }

  /** Ends the stream because its source failed, logged with the route through the request's logger. */
  protected fail (error: unknown): void {
    this.log.error({ err: error, route: this.route.path }, 'server push source failed')
    this.end('source-error')
  }

  /** Starts delivering; called once the sink is known to be open. */
  protected abstract run (): void

  /** Lets go of the source; `reason` says why the stream ends. */
  protected abstract stop (reason: EndReason): void

  /**
   * Called now and then by OpenStreams, which is how neither check costs anything per part. Progress is a part
   * written or bytes taken by the kernel: the stream's buffered length, or libuv's queue of what it could not
   * write yet, changed. A full sink with neither since an earlier look has made no progress all along, and
   * is cut off after stallTimeoutMs; a slow reader taking a big part bit by bit is not. A stream waiting for its
   * connection (an HTTP/2 session holding its budget) progresses as that connection does: while the session's
   * other streams move it waits its turn, and once none has moved for stallTimeoutMs it is cut off with them,
   * all in the same look. A sink not full has had nothing to send, and gets its last part again after
   * idleRepeatMs. A stream open for maxStreamMs ends, well-formed, whatever else it is doing.
   */
  watch (now: number): void {
    const { route, sink } = this
    if (route.maxStreamMs > 0 && now - this.startedAt >= route.maxStreamMs) return this.end('max-duration')
    if (this.parts !== this.markParts || sink.writableLength !== this.markLength || sink.queuedBytes() !== this.markQueued) {
      return this.mark(now)
    }
    const quiet = now - this.markAt
    if (sink.full()) {
      const moved = sink.passed() !== this.markPassed
      if (moved && !sink.writableNeedDrain) return this.mark(now)
      if (route.stallTimeoutMs === 0 || quiet < route.stallTimeoutMs) return
      // A connection stuck as a whole is cut with every stream on it; else this stream alone.
      if (!sink.cutStuckConnection(moved)) this.end('stalled')
    } else if (this.idleRepeatMs > 0 && quiet >= this.idleRepeatMs && this.lastPart !== undefined) {
      this.send(this.lastPart)
      route.counters.partsRepeated++
      this.mark(now)
    }
  }

  /** Notes the stream's progress as of `now`. */
  private mark (now: number): void {
    this.markParts = this.parts
    this.markLength = this.sink.writableLength
    this.markQueued = this.sink.queuedBytes()
    this.markPassed = this.sink.passed()
    this.markAt = now
  }

  /** The part to repeat before the close delimiter: the client is left showing it. */
  protected closingPart (): EncodedPart | undefined {
    return this.lastPart
  }

  /** Writes one part in the viewer's framing, complete on arrival. */
  protected send (part: EncodedPart): void {
    const bytes = this.framing.write(this.sink, part)
    this.sink.noteWrite()
    this.lastPart = part
    this.parts++
    this.bytes += bytes
    const { counters } = this.route
    counters.partsSent++
    counters.bytesSent += bytes
  }

  private readonly clientGone = (): void => this.end('client-gone')
  private readonly stalledOut = (): void => this.end('stalled')
}
