// A live source fed by a producer that runs only while someone watches: a camera is not read for nobody.
import { nextTurn, settle, stopIterator, waitFor } from '../async.js'
import { checkFactoryOptions, checkNumber, invalidOption } from '../check.js'
import { events, type SourceEventBase } from '../events.js'
import type { Frame } from '../frame.js'
import type { Logger } from '../logger.js'
import { OnDemandHub } from './on-demand.js'
import { LIVE_SOURCE_KEYS, type LiveSource, type LiveSourceOptions } from './source.js'

export interface LiveFromOptions extends LiveSourceOptions {
  /** How long the producer keeps running after the last viewer left, in ms (a viewer that reloads finds it
   * still running). Default 0. */
  lingerMs?: number
}

/** What a producer is started with. */
export interface ProducerContext {
  /** Aborts when the producer is stopped: pass it on to what the producer awaits. */
  signal: AbortSignal
  /** The logger of the app whose route shows the source. */
  log: Logger
  /**
   * Says the producer cannot deliver for now (a camera unreachable, a process restarting): viewers get their
   * route's `offlineFrame` and `stats()` says the route is offline, until the producer's next frame. Does nothing
   * once the producer is stopped.
   */
  offline: () => void
}

/** Makes the producer's frames. Called again each time viewers return. */
export type ProducerFactory = (context: ProducerContext) => AsyncIterable<Frame>

/** What the package's own producers (`fromCommand()`, `relay()`) get besides a user's: what their events carry. */
export interface OwnProducerContext extends ProducerContext {
  readonly about: SourceEventBase
}

/** A producer of the package's own. */
export type OwnProducerFactory = (context: OwnProducerContext) => AsyncIterable<Frame>

// A producer whose frames are refused this many times in a row has failed: its streams end. Fewer are skipped,
// so that one bad frame from a camera that runs for days does not cut every viewer.
const MAX_REFUSED_IN_A_ROW = 10

interface Producer {
  readonly controller: AbortController
  iterator: AsyncIterator<Frame> | undefined
  /** Whether its factory was called: a producer stopped before has no start or stop to tell. */
  started: boolean
}

class ProducerHub extends OnDemandHub {
  private running: Producer | undefined

  constructor (private readonly factory: OwnProducerFactory, lingerMs: number, options: LiveSourceOptions) {
    super(lingerMs, options, 'liveFrom()')
  }

  protected start (): void {
    if (this.running === undefined && !this.closed) this.produce()
  }

  /** Stops the producer (its iterator's return() runs, so its finally blocks do) and forgets its last frame. */
  protected stop (): void {
    const running = this.running
    this.running = undefined
    this.forget()
    if (running === undefined) return
    running.controller.abort(new Error('server push producer stopped'))
    if (running.started && events.sourceStop.hasSubscribers) events.sourceStop.publish(this.about())
    // Chained: a producer halted before it even started must not let the next one past an earlier one closing.
    this.stopsWith(stopIterator(running.iterator, (err) => this.log?.warn({ err }, 'server push producer failed to stop')))
  }

  private async produce (): Promise<void> {
    const running: Producer = { controller: new AbortController(), iterator: undefined, started: false }
    this.running = running
    const { signal } = running.controller
    try {
      // A camera is opened by one producer at a time.
      await this.stopped()
      if (signal.aborted) return
      // A producer starts only for a viewer or a snapshot of a route, which has set the log by then.
      const offline = (): void => { if (!signal.aborted) this.setOffline(true) }
      const about = this.about()
      running.started = true
      if (events.sourceStart.hasSubscribers) events.sourceStart.publish(about)
      const iterable: unknown = this.factory({ signal, log: this.log as Logger, offline, about })
      if (typeof iterable !== 'object' || iterable === null || !(Symbol.asyncIterator in iterable)) {
        throw invalidOption('liveFrom()', 'the factory must return an async iterable, such as an async generator')
      }
      const iterator = running.iterator = (iterable as AsyncIterable<Frame>)[Symbol.asyncIterator]()
      let refusedInARow = 0
      for (;;) {
        const outcome = await settle(iterator.next(), signal)
        // Stopped meanwhile: whatever the producer had ready belongs to no one now.
        if (outcome === undefined || signal.aborted) return
        if ('error' in outcome) throw outcome.error
        if (outcome.value.done === true) break
        try {
          this.publish(outcome.value.value)
          refusedInARow = 0
        } catch (error) {
          // Not a frame, or not one every route can carry (FST_SERVER_PUSH_BAD_FRAME): the loop has returned
          // before publishing to a closed source.
          this.framesRefused++
          if (++refusedInARow === MAX_REFUSED_IN_A_ROW) throw error
          // One line per run of refused frames.
          if (refusedInARow === 1) this.log?.warn({ err: error }, 'server push producer frame refused, skipped')
        }
        // A producer that never waits on I/O would otherwise keep the event loop to itself.
        await waitFor(signal, nextTurn)
        if (signal.aborted) return
      }
      // Over by itself: its viewers' streams end, and the next viewer starts a new producer.
      this.running = undefined
      if (events.sourceStop.hasSubscribers) events.sourceStop.publish(this.about())
      this.endStreams('source-ended')
    } catch (error) {
      this.log?.error({ err: error }, 'server push producer failed')
      if (events.sourceFail.hasSubscribers) events.sourceFail.publish({ ...this.about(), error })
      this.stop()
      this.endStreams('source-error')
    }
  }
}

/** The keys of LiveFromOptions. */
export const LIVE_FROM_KEYS = { ...LIVE_SOURCE_KEYS, lingerMs: true } satisfies Record<keyof LiveFromOptions, true>

/**
 * A live source whose frames come from `factory`'s iterable (an async generator reading a camera, say): it is
 * started when the first viewer (or snapshot request) arrives and stopped with `return()` when the last one has
 * left and `lingerMs` has passed. If it ends or fails, its streams end (with the error logged) and the next viewer
 * starts it again.
 */
export function liveFrom (factory: ProducerFactory, options: LiveFromOptions = {}): LiveSource {
  if (typeof factory !== 'function') throw invalidOption('liveFrom()', 'needs a function that returns an async iterable of frames')
  checkFactoryOptions('liveFrom()', options, LIVE_FROM_KEYS)
  checkNumber('liveFrom()', 'lingerMs', options.lingerMs, 0)
  return ownProducer(factory, options)
}

/** A live source fed by a producer of the package's own, its options checked by its factory. */
export function ownProducer (factory: OwnProducerFactory, { lingerMs = 0, ...live }: LiveFromOptions): LiveSource {
  return new ProducerHub(factory, lingerMs, live).source
}
