// What every push stream shares, whatever feeds it: noticing the client leave, writing parts in its framing,
// repeating the last one while the source is quiet, cutting off a client that stopped reading, and ending once,
// well-formed, with one log line.
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { endSocket } from './socket.js'
import type { RouteCounters } from './stats.js'
import { closingBytes, type Announce, type EncodedPart, type FramingName, type Multipart } from './wire.js'

/** Why a stream ended, as logged in its last line. */
export type EndReason = 'client-gone' | 'source-ended' | 'source-error' | 'server-closing' | 'stalled'

/** What a stream needs to know of its route. */
export interface StreamRoute {
  readonly path: string
  readonly multipart: Multipart
  /** 0 = never cut off. */
  readonly stallTimeoutMs: number
  /** 0 = never repeat. */
  readonly idleRepeatMs: number
  /** Least time between two parts to one viewer: from intervalMs and maxFps. */
  readonly minGapMs: number
  /** For frames that carry none. */
  readonly contentType: string
  readonly counters: RouteCounters
}

/** What a stream is made with, whatever feeds it: the request's socket and logger, the route, the viewer's
 * framing, and what to call once it has ended. */
export interface StreamContext {
  readonly socket: Socket
  readonly route: StreamRoute
  readonly framing: FramingName
  readonly log: FastifyBaseLogger
  readonly onEnd: (stream: Stream) => void
}

/** Bytes libuv holds for the socket that the kernel has not taken yet: it shrinks as a slow client reads, while
 * the part being written is still far from done. Not public API, so read defensively: 0 when it is not there. */
function writeQueueSize (socket: Socket): number {
  // A socket destroyed but not yet closed (a watch can come in between) has no handle.
  /* c8 ignore next */
  return (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize ?? 0
}

export abstract class Stream {
  protected readonly socket: Socket
  protected readonly route: StreamRoute
  protected readonly framing: FramingName
  protected readonly log: FastifyBaseLogger
  private readonly onEnd: (stream: Stream) => void
  protected ended = false
  private readonly startedAt = performance.now()
  private lastPart: EncodedPart | undefined
  private parts = 0
  private bytes = 0
  /** Advance framing: the type the last header block sent announced. */
  private announced: Announce | undefined
  /** What the watchdog last saw of the stream's progress (parts, and bytes still queued), and when it first saw it. */
  private markParts = -1
  private markLength = -1
  private markQueued = -1
  private markAt = 0

  constructor ({ socket, route, framing, log, onEnd }: StreamContext) {
    this.socket = socket
    this.route = route
    this.framing = framing
    this.log = log
    this.onEnd = onEnd
  }

  start (): void {
    this.route.counters.viewers++
    this.socket.on('close', this.clientGone)
    this.socket.on('end', this.clientGone)
    if (this.socket.destroyed) return this.end('client-gone')
    this.run()
  }

  /** Ends the stream once; later calls do nothing. A failed source ends it through `fail()`, which logs why. */
  end (reason: EndReason): void {
    // Every caller today ends a stream at most once; the guard keeps the next one from counting a viewer twice.
    /* c8 ignore next */
    if (this.ended) return
    this.ended = true
    const { socket, log, route } = this
    socket.off('close', this.clientGone)
    socket.off('end', this.clientGone)
    this.stop(reason)
    route.counters.viewers--
    if (reason === 'client-gone' || reason === 'stalled') {
      socket.destroy()
    } else {
      endSocket(socket, closingBytes(route.multipart, this.framing, this.closingPart(), this.announced))
    }
    log.info({
      route: route.path,
      reason,
      framing: this.framing,
      parts: this.parts,
      bytes: this.bytes,
      durationMs: Math.round(performance.now() - this.startedAt)
    }, 'server push stream ended')
    this.onEnd(this)
  }

  /** Ends the stream because its source failed, logged with the route through the request's logger. */
  protected fail (error: unknown): void {
    this.log.error({ err: error, route: this.route.path }, 'server push source failed')
    this.end('source-error')
  }

  /** Starts delivering; called once the socket is known to be open. */
  protected abstract run (): void

  /** Lets go of the source; `reason` says why the stream ends. */
  protected abstract stop (reason: EndReason): void

  /**
   * Called now and then by OpenStreams, which is how neither check costs anything per part. Progress is a part
   * written or bytes taken by the kernel: the stream's buffered length, or libuv's queue of what it could not
   * write yet, changed. A full socket with neither since an earlier look has made no progress all along, and
   * is cut off after stallTimeoutMs; a slow reader taking a big part bit by bit is not. A socket not full has had
   * nothing to send, and gets its last part again after idleRepeatMs.
   */
  watch (now: number): void {
    const { route, socket } = this
    if (this.parts !== this.markParts || socket.writableLength !== this.markLength || writeQueueSize(socket) !== this.markQueued) {
      return this.mark(now)
    }
    const quiet = now - this.markAt
    if (socket.writableNeedDrain) {
      if (route.stallTimeoutMs > 0 && quiet >= route.stallTimeoutMs) this.end('stalled')
    } else if (route.idleRepeatMs > 0 && quiet >= route.idleRepeatMs && this.lastPart !== undefined) {
      this.send(this.lastPart)
      route.counters.partsRepeated++
      this.mark(now)
    }
  }

  /** Notes the stream's progress as of `now`. */
  private mark (now: number): void {
    this.markParts = this.parts
    this.markLength = this.socket.writableLength
    this.markQueued = writeQueueSize(this.socket)
    this.markAt = now
  }

  /** The part to repeat before the close delimiter: the client is left showing it. */
  protected closingPart (): EncodedPart | undefined {
    return this.lastPart
  }

  /**
   * One part in one corked write, complete on arrival. Standard framing: header block, body, delimiter. Advance
   * framing: body, then the delimiter with the next header block; before the body, the stream's first header
   * block, or, when the last one announced another type, that part ended empty and this one announced.
   */
  protected send (part: EncodedPart): void {
    const { socket, route } = this
    let bytes: number
    socket.cork()
    if (this.framing === 'standard') {
      const { delimiter } = route.multipart
      socket.write(part.head)
      socket.write(part.body)
      socket.write(delimiter)
      bytes = part.byteLength + delimiter.length
    } else {
      const { announce } = part
      const { announced } = this
      bytes = part.body.length + announce.next.length
      if (announced !== announce) {
        const opener = announced === undefined ? announce.head : announce.next
        socket.write(opener)
        bytes += opener.length
        this.announced = announce
      }
      socket.write(part.body)
      socket.write(announce.next)
    }
    socket.uncork()
    this.lastPart = part
    this.parts++
    this.bytes += bytes
    route.counters.partsSent++
    route.counters.bytesSent += bytes
  }

  private readonly clientGone = (): void => this.end('client-gone')
}
