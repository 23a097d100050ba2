// One producer, any number of viewers: a published frame is checked once, encoded once per route, and the same
// buffers go to every viewer.
import { performance } from 'node:perf_hooks'
import { noop, type Arm } from '../async.js'
import { FST_SERVER_PUSH_SOURCE_CLOSED } from '../errors.js'
import { checkFrame, type CheckedFrame, type Frame } from '../frame.js'
import type { HeaderList } from '../headers.js'
import type { Logger } from '../logger.js'
import type { EndReason } from '../stream.js'
import type { EncodedPart } from '../wire.js'

// A brand rather than instanceof: the ESM and the CommonJS build each have their own class.
const BRAND = Symbol.for('fastify-server-push.LiveSource')

export interface LiveSourceOptions {
  /**
   * Add `X-Timestamp: <seconds>.<microseconds>` with the publish time to every part, so clients can measure
   * latency. Default true.
   */
  timestamps?: boolean
}

/** A frame as published: checked once; `extra` are the part headers the source adds (X-Timestamp). */
export interface PublishedFrame extends CheckedFrame {
  readonly seq: number
  readonly extra: HeaderList
}

/** A route showing a live source (see channel.ts), or a publisher passing its frames on (Redis). */
export interface LiveSubscriber<Part = EncodedPart> {
  /**
   * What the subscriber sends of the frame (a route's part bytes); throws when it cannot carry the frame
   * (FST_SERVER_PUSH_BAD_FRAME), and then no one gets it.
   */
  encode (frame: PublishedFrame): Part
  deliver (part: Part): void
  end (reason: EndReason): void
}

/** Wall-clock time with microseconds, as `<seconds>.<microseconds>`. */
function timestamp (): string {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000)
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`
}

/** Frames pushed by a producer with `publish()`; made by `createLiveSource()` or `liveFrom()`. */
export class LiveSource {
  readonly [BRAND] = true
  /** Where the source logs what no viewer reports: the logger of the first route that shows it. @internal */
  log: Logger | undefined
  private current: PublishedFrame | undefined
  private seq = 0
  private isClosed = false
  private demand = 0
  private readonly subscribers = new Set<LiveSubscriber<unknown>>()
  private readonly waiters = new Set<() => void>()
  private readonly timestamps: boolean

  constructor ({ timestamps = true }: LiveSourceOptions = {}) {
    this.timestamps = timestamps
  }

  /** Frames published so far. */
  get published (): number {
    return this.seq
  }

  /** Frames a producer made that could not be published (not a frame, or not fit for a route), skipped. */
  framesRefused = 0

  /** Frames lost on the way to this process (a Redis source's, while it was cut off), counted where known. */
  framesDropped = 0

  get closed (): boolean {
    return this.isClosed
  }

  /** The last frame published, which a new viewer gets at once. @internal */
  get latest (): PublishedFrame | undefined {
    return this.current
  }

  /**
   * Sends `frame` to every viewer of every route showing this source: at once to a viewer that is ready, or as
   * soon as it is (newer frames replace older ones it has not got yet). Throws FST_SERVER_PUSH_BAD_FRAME, and
   * then no viewer gets it, when `frame` is not a frame; FST_SERVER_PUSH_SOURCE_CLOSED after `close()`.
   */
  publish (frame: Frame): void {
    if (this.isClosed) throw new FST_SERVER_PUSH_SOURCE_CLOSED()
    this.publishChecked(checkFrame(frame), this.timestamps ? [['X-Timestamp', timestamp()]] : [])
  }

  /** Publishes a frame checked elsewhere with the part headers it came with (from Redis, say). @internal */
  protected publishChecked (checked: CheckedFrame, extra: HeaderList): void {
    const published: PublishedFrame = { ...checked, seq: this.seq + 1, extra }
    const parts = [...this.subscribers].map((subscriber) => [subscriber, subscriber.encode(published)] as const)
    this.seq++
    this.current = published
    for (const [subscriber, part] of parts) subscriber.deliver(part)
    for (const wake of this.waiters) wake()
  }

  /** Ends every stream of this source well-formed (the last frame, then the close delimiter). */
  close (): void {
    if (this.isClosed) return
    this.isClosed = true
    for (const subscriber of this.subscribers) subscriber.end('source-ended')
    for (const wake of this.waiters) wake()
  }

  /** A route shows the source: the first one gives it its logger. @internal */
  adoptLog (log: Logger): void {
    this.log ??= log
  }

  /** @internal */
  subscribe (subscriber: LiveSubscriber<unknown>): void {
    this.subscribers.add(subscriber)
  }

  /** A route is gone (its app closed); with no route left, a producer has no reason to run. @internal */
  unsubscribe (subscriber: LiveSubscriber<unknown>): void {
    this.subscribers.delete(subscriber)
    if (this.subscribers.size === 0) this.unwatched()
  }

  /** A viewer or a snapshot request wants frames: a stopped producer starts. @internal */
  acquire (): void {
    this.demand++
    this.wanted(true)
  }

  /** @internal */
  release (): void {
    if (--this.demand === 0) this.wanted(false)
  }

  /** The next frame published within `timeoutMs` (or until `cancel` fires or the source closes), else the latest. @internal */
  nextFrame (timeoutMs: number, cancel: Arm): Promise<PublishedFrame | undefined> {
    return new Promise((resolve) => {
      if (this.isClosed) return resolve(this.current)
      let disarm = noop
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(done)
        disarm()
        resolve(this.current)
      }
      const timer = setTimeout(done, timeoutMs)
      this.waiters.add(done)
      disarm = cancel(done)
    })
  }

  /** Settles once the producers stopped so far have finished stopping (processes exited, connections closed). @internal */
  stopped (): Promise<void> {
    return Promise.resolve()
  }

  /** Called on each new demand (true) and when the last one ends (false). */
  protected wanted (_on: boolean): void {}

  /** Called when no route shows the source any more. */
  protected unwatched (): void {}

  /** Ends the streams of every route, leaving the source open for viewers to come. */
  protected endStreams (reason: EndReason): void {
    for (const subscriber of this.subscribers) subscriber.end(reason)
  }

  /** Forgets the latest frame: a stopped producer's last frame is not news to the next viewer. */
  protected forget (): void {
    this.current = undefined
  }
}

export function isLiveSource (value: unknown): value is LiveSource {
  return typeof value === 'object' && value !== null && (value as Partial<LiveSource>)[BRAND] === true
}

/** A live source: call `publish(frame)` whenever a frame is ready; every viewer of its routes gets it. */
export function createLiveSource (options?: LiveSourceOptions): LiveSource {
  return new LiveSource(options)
}
