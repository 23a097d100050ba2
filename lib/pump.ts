// One client's stream: pulls a frame, writes it as one part, waits for the socket and the pace, pulls the next;
// ends well-formed and leaves nothing behind whatever ends it.
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { isThenable, nextTurn, settle, sleep, waitFor } from './async.js'
import { toPart } from './frame.js'
import { endSocket } from './socket.js'
import type { FrameIterator } from './sources/function.js'
import { closingBytes, EncodedPart, type Framing } from './wire.js'

/** Why a stream ended, as logged in its last line. */
export type EndReason = 'client-gone' | 'source-ended' | 'source-error' | 'server-closing'

/** What the pump needs to know of its route. */
export interface PumpRoute {
  readonly path: string
  readonly intervalMs: number
  readonly contentType: string
  readonly framing: Framing
}

export class PushStream {
  private readonly controller = new AbortController()
  private readonly startedAt = performance.now()
  private iterator: FrameIterator | undefined
  private lastPart: EncodedPart | undefined
  private lastPullAt = -Infinity
  private parts = 0
  private bytes = 0
  private ended = false

  constructor (
    private readonly socket: Socket,
    private readonly route: PumpRoute,
    private readonly log: FastifyBaseLogger,
    private readonly onEnd: (stream: PushStream) => void
  ) {}

  /** Runs the stream; `open` makes this connection's frame iterator and gets the stream's abort signal. */
  start (open: (signal: AbortSignal) => FrameIterator): void {
    this.socket.on('close', this.clientGone)
    this.socket.on('end', this.clientGone)
    if (this.socket.destroyed) return this.end('client-gone')
    this.run(open) // settles only after handling its own errors
  }

  /** Ends the stream once; later calls do nothing. */
  end (reason: EndReason, error?: unknown): void {
    if (this.ended) return
    this.ended = true
    const { socket, log, route } = this
    this.controller.abort(new Error(`server push stream ended: ${reason}`))
    socket.off('close', this.clientGone)
    socket.off('end', this.clientGone)
    if (reason !== 'source-ended') this.stopSource()
    if (reason === 'source-error') log.error({ err: error, route: route.path }, 'server push source failed')
    if (reason === 'client-gone') {
      socket.destroy()
    } else {
      endSocket(socket, closingBytes(route.framing, this.lastPart))
    }
    log.info({
      route: route.path,
      reason,
      parts: this.parts,
      bytes: this.bytes,
      durationMs: Math.round(performance.now() - this.startedAt)
    }, 'server push stream ended')
    this.onEnd(this)
  }

  private readonly clientGone = (): void => this.end('client-gone')

  private async run (open: (signal: AbortSignal) => FrameIterator): Promise<void> {
    const { route, socket } = this
    const { signal } = this.controller
    try {
      const iterator = this.iterator = open(signal)
      for (;;) {
        await this.pace(signal)
        if (this.ended) return
        this.lastPullAt = performance.now()
        const step = await this.pull(iterator, signal)
        if (this.ended) return
        if (typeof step !== 'object' || step === null) throw new TypeError('the source iterator\'s next() returned a non-object')
        if (step.done === true) return this.end('source-ended')
        const { value } = step
        this.send(value instanceof EncodedPart ? value : toPart(value, route.contentType, route.framing))
        if (socket.writableNeedDrain) {
          await waitFor(signal, (wake) => {
            socket.on('drain', wake)
            return () => socket.off('drain', wake)
          })
        }
      }
    } catch (error) {
      this.end('source-error', error)
    }
  }

  /** Waits out the rest of `intervalMs` since the last pull, or one turn of the event loop at least, so that a
   * source that never waits cannot starve other clients and I/O. */
  private async pace (signal: AbortSignal): Promise<void> {
    const due = this.lastPullAt + this.route.intervalMs
    if (performance.now() >= due) return waitFor(signal, nextTurn)
    // Timers count from the event loop's cached clock and may fire a little early: wait until `due` has passed.
    while (!signal.aborted && performance.now() < due) await waitFor(signal, sleep(due - performance.now()))
  }

  /** The iterator's next step; gives up waiting (with `undefined`) when the stream ends first. */
  private async pull (iterator: FrameIterator, signal: AbortSignal): Promise<IteratorResult<unknown> | undefined> {
    const step = iterator.next()
    if (!isThenable(step)) return step
    const outcome = await settle(step, signal)
    if (outcome === undefined) return undefined
    if ('error' in outcome) throw outcome.error
    return outcome.value
  }

  /** One part: header block, body and delimiter in one corked write, so the part is complete on arrival. */
  private send (part: EncodedPart): void {
    const { socket } = this
    const { delimiter } = this.route.framing
    socket.cork()
    socket.write(part.head)
    socket.write(part.body)
    socket.write(delimiter)
    socket.uncork()
    this.lastPart = part
    this.parts++
    this.bytes += part.byteLength + delimiter.length
  }

  /** Tells the source to stop, so its `finally` blocks run; what it says then is only logged. */
  private stopSource (): void {
    const { iterator, log, route } = this
    const warn = (err: unknown): void => log.warn({ err, route: route.path }, 'server push source failed to stop')
    try {
      const done = iterator?.return?.()
      if (isThenable(done)) done.then(undefined, warn)
    } catch (err) {
      warn(err)
    }
  }
}
