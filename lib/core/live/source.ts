// A live source: one producer, any number of viewers. What its user holds is a small handle (publish, close, the
// counts); the routes and publishers reach the hub behind it, which checks a published frame once and gives it
// to every route, each encoding it once for all its viewers. A source with a rate cap holds a frame that comes
// too soon, replacing it with any newer one, and publishes the one it holds when its turn comes: one timer per
// source, armed once per gap. The hub also knows whether the source is offline, and since when: its producer
// says so (a relay retrying, a command restarting, Redis away), or no frame came for offlineAfterMs while it was
// watched, which one timer per source checks, re-armed only when it fires early, never per frame.
import { performance } from 'node:perf_hooks'
import { noop, type Arm } from '../async.js'
import { BoundedWarning } from '../bounded-warning.js'
import { checkFactoryOptions, checkNumber, invalidOption } from '../check.js'
import { FST_SERVER_PUSH_SOURCE_CLOSED } from '../errors.js'
import { events, type SourceEventBase, type SourceOnlineEvent } from '../events.js'
import { checkFrame, type CheckedFrame, type Frame } from '../frame.js'
import type { HeaderList } from '../headers.js'
import type { Logger } from '../logger.js'
import type { EndReason } from '../stream.js'
import type { EncodedPart } from '../wire.js'

/**
 * Frames published once and shown by every route whose `source` it is, each viewer getting the newest. Made by
 * `createLiveSource()` (you call `publish()`), `liveFrom()`, `fromCommand()`, `relay()` or `redisSource()`.
 */
export interface LiveSource {
  /**
   * Sends `frame` to every viewer of every route showing this source: at once to a viewer that is ready, or as
   * soon as it is (newer frames replace older ones it has not got yet). Throws FST_SERVER_PUSH_BAD_FRAME, and
   * then no viewer gets it, when `frame` is not a frame or a route cannot carry it; FST_SERVER_PUSH_SOURCE_CLOSED
   * after `close()`.
   */
  publish (frame: Frame): void
  /** Ends every stream of this source well-formed (the last frame, then the close delimiter), and stops its
   * producer; the source takes no more frames. */
  close (): void
  /** Whether `close()` was called. */
  readonly closed: boolean
  /** Frames published so far. */
  readonly published: number
  /** Frames a producer made that could not be published (not a frame, or not fit for a route), skipped. */
  readonly framesRefused: number
  /** Frames lost on the way to this process (a Redis source's, while it was cut off), counted where known. */
  readonly framesDropped: number
  /** Frames never published for `maxFps`: held for their turn, then replaced by a newer one (or their producer
   * stopped first). */
  readonly framesCapped: number
}

export interface LiveSourceOptions {
  /**
   * Add `X-Timestamp: <seconds>.<microseconds>` with the publish time to every part, so clients can measure
   * latency. Default true.
   */
  timestamps?: boolean
  /**
   * The most frames a second the source publishes, for every route and viewer: a frame that comes sooner after
   * the last one is held (not encoded, not sent), replaced by any newer one, and the one held is published when
   * its turn comes, so the newest frame of a burst is always shown. Frames replaced are counted in
   * `framesCapped`. `Infinity`: no cap. Default: none; 60 (`SHARED_SOURCE_MAX_FPS`) for `relay()` and
   * `redisSource()`, whose frames come from elsewhere.
   */
  maxFps?: number
  /**
   * How long the source may go without a frame while it has viewers (or snapshot requests) before it counts as
   * offline, in ms: its viewers get their route's `offlineFrame` until the next frame comes, and `stats()` says
   * the route is offline. 0: never by this clock (a producer may still say it is offline). Default 0 for
   * `createLiveSource()` and `liveFrom()`, whose frames may come only when something changes; 10000 for
   * `fromCommand()`, `relay()` and `redisSource()`, fed by cameras.
   */
  offlineAfterMs?: number
}

/**
 * The rate cap of sources fed from elsewhere (`relay()`, `redisSource()`): a display refreshes at 60 Hz, cameras
 * send 30 or 60 frames a second and go through untouched, and a flood costs at most 60 encodes a second.
 */
export const SHARED_SOURCE_MAX_FPS = 60

/** The keys of LiveSourceOptions, for the factories' check of their options. */
export const LIVE_SOURCE_KEYS = { timestamps: true, maxFps: true, offlineAfterMs: true } satisfies Record<keyof LiveSourceOptions, true>

/**
 * `maxFps` as given, checked (at least one frame in 1000 s, whose wait a timer can hold, or Infinity); throws
 * FST_SERVER_PUSH_INVALID_OPTION naming `where`.
 */
export function checkMaxFps (where: string, maxFps: unknown): number | undefined {
  return maxFps === Infinity ? maxFps : checkNumber(where, 'maxFps', maxFps, { test: (n) => n >= 0.001, text: 'a number >= 0.001, or Infinity for no cap' })
}

/** The default `offlineAfterMs` of the sources fed by cameras (`fromCommand()`, `relay()`, `redisSource()`). */
export const CAMERA_OFFLINE_AFTER_MS = 10_000

// The longest wait a timer holds (2^31 - 1 ms, 24.8 days): a longer one would fire at once.
const LONGEST_TIMER_MS = 2 ** 31 - 1

/** `offlineAfterMs` as given, checked; throws FST_SERVER_PUSH_INVALID_OPTION naming `where`. */
export function checkOfflineAfterMs (where: string, offlineAfterMs: unknown): number | undefined {
  return checkNumber(where, 'offlineAfterMs', offlineAfterMs, {
    test: (n) => n === 0 || (n >= 1 && n <= LONGEST_TIMER_MS),
    text: `0 (never) or a number from 1 to ${LONGEST_TIMER_MS}`
  })
}

/** A frame held by the rate cap until its turn. */
interface Held { readonly checked: CheckedFrame, readonly extra: HeaderList }

/** A frame as published: checked once; `extra` are the part headers the source adds (X-Timestamp). */
export interface PublishedFrame extends CheckedFrame {
  readonly seq: number
  readonly extra: HeaderList
  /** When it was published here (performance.now()): its age at each write is measured from it. */
  readonly at: number
}

/** A route showing a live source (see live-stream.ts), or a publisher passing its frames on (Redis). */
export interface LiveSubscriber<Part = EncodedPart> {
  /**
   * What the subscriber sends of the frame (a route's part bytes); throws when it cannot carry the frame
   * (FST_SERVER_PUSH_BAD_FRAME), and then no one gets it.
   */
  encode (frame: PublishedFrame): Part
  deliver (part: Part): void
  end (reason: EndReason): void
  /** The source went offline at `since` (Date.now()): its next frame ends that. */
  offline? (since: number): void
}

/** Wall-clock time with microseconds, as `<seconds>.<microseconds>`. */
function timestamp (): string {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000)
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`
}

// Where a handle keeps its hub: a symbol no entry exports, so the hub is in no type and under no name a user
// sees. Symbol.for rather than a symbol of this module: the ESM and the CommonJS build each load their own, and
// a source made by one is shown by the other.
const HUB = Symbol.for('fastify-server-push.LiveHub')

/** The source as its user holds it: each member passes to the hub, which alone changes the counts. */
class Handle implements LiveSource {
  declare readonly [HUB]: LiveHub

  constructor (hub: LiveHub) {
    // Not enumerable: console.log(source) and { ...source } show the handle, not the hub's frames and timers.
    Object.defineProperty(this, HUB, { value: hub })
  }

  publish (frame: Frame): void {
    this[HUB].publish(frame)
  }

  close (): void {
    this[HUB].close()
  }

  get closed (): boolean {
    return this[HUB].closed
  }

  get published (): number {
    return this[HUB].published
  }

  get framesRefused (): number {
    return this[HUB].framesRefused
  }

  get framesDropped (): number {
    return this[HUB].framesDropped
  }

  get framesCapped (): number {
    return this[HUB].framesCapped
  }
}

/** What is behind a live source: its frames, the routes and publishers it feeds, and the demand for it. */
export class LiveHub {
  /** What the user holds. */
  readonly source: LiveSource = new Handle(this)
  /** Where the source logs what no viewer reports: the logger of the first route that shows it. */
  log: Logger | undefined
  /** How events name the source: the URL of the first push route that shows it, or of a snapshot route until one
   * does. */
  name = ''
  private namedByPush = false
  /** The last frame published, which a new viewer gets at once. */
  latest: PublishedFrame | undefined
  published = 0
  closed = false
  framesRefused = 0
  framesDropped = 0
  framesCapped = 0
  /** The viewers and snapshot requests holding the source now, over every route. */
  demand = 0
  /** When the source went offline (Date.now()); undefined while it delivers, and once its producer has stopped. */
  offlineSince: number | undefined
  /** The same moment by the monotonic clock, which measures the outage. */
  private offlineFrom = 0
  /** How long the source was offline in the outages that are over, in ms. */
  private offlineMsBefore = 0
  private readonly subscribers = new Set<LiveSubscriber<unknown>>()
  private readonly waiters = new Set<() => void>()
  private readonly timestamps: boolean
  /** The least time between two frames published, in ms: 0 without a cap. */
  private readonly gapMs: number
  /** When the last frame was published (performance.now()), for the cap. */
  private sentAt = -Infinity
  private held: Held | undefined
  private heldTimer: NodeJS.Timeout | undefined
  /** Held frames refused: a producer may make them at will (or, through Redis, whoever can publish). */
  private readonly heldRefusals = new BoundedWarning()
  /** 0: the source is never offline for want of frames alone. */
  private readonly offlineAfterMs: number
  /** When the last frame came or the source was first watched, whichever is later (performance.now()). */
  private heardAt = 0
  /** Armed while the source is watched and online (when offlineAfterMs is set): one per source. */
  private offlineTimer: NodeJS.Timeout | undefined

  /** @param where who made the source, named in an option's error. */
  constructor ({ timestamps = true, maxFps, offlineAfterMs }: LiveSourceOptions = {}, where = 'createLiveSource()') {
    if (typeof timestamps !== 'boolean') throw invalidOption(where, `timestamps must be true or false, got ${String(timestamps)}`)
    this.timestamps = timestamps
    this.gapMs = 1000 / (checkMaxFps(where, maxFps) ?? Infinity)
    this.offlineAfterMs = checkOfflineAfterMs(where, offlineAfterMs) ?? 0
  }

  /** See `LiveSource.publish()`. */
  publish (frame: Frame): void {
    if (this.closed) throw new FST_SERVER_PUSH_SOURCE_CLOSED()
    this.publishChecked(checkFrame(frame), this.timestamps ? [['X-Timestamp', timestamp()]] : [])
  }

  /** Publishes a frame checked elsewhere with the part headers it came with (from Redis, say), now or, held by
   * the cap, when its turn comes. */
  protected publishChecked (checked: CheckedFrame, extra: HeaderList): void {
    if (this.gapMs === 0) return this.send(checked, extra)
    const now = performance.now()
    if (this.held !== undefined) {
      this.framesCapped++
    } else if (now - this.sentAt >= this.gapMs) {
      this.send(checked, extra)
      this.sentAt = now
      return
    } else {
      // unref: a frame waiting its turn must not keep the process alive.
      this.heldTimer = setTimeout(this.flush, this.sentAt + this.gapMs - now).unref()
    }
    this.held = { checked, extra }
  }

  /**
   * Publishes the held frame, if any, now: its turn has come, or its streams end. A route that cannot carry it
   * (FST_SERVER_PUSH_BAD_FRAME) has no publisher to throw to: it is counted, and logged at most once a minute.
   */
  private readonly flush = (): void => {
    clearTimeout(this.heldTimer)
    const { held } = this
    if (held === undefined) return
    this.held = undefined
    this.sentAt = performance.now()
    try {
      this.send(held.checked, held.extra)
    } catch (error) {
      this.framesRefused++
      const refused = this.heldRefusals.add(1)
      if (refused > 0) this.log?.warn({ err: error, refused }, 'server push live source: a held frame was refused, skipped')
    }
  }

  private send (checked: CheckedFrame, extra: HeaderList): void {
    const at = performance.now()
    const published: PublishedFrame = { ...checked, seq: this.published + 1, extra, at }
    const parts = [...this.subscribers].map((subscriber) => [subscriber, subscriber.encode(published)] as const)
    this.published++
    this.latest = published
    this.heardAt = at
    this.setOffline(false)
    for (const [subscriber, part] of parts) subscriber.deliver(part)
    for (const wake of this.waiters) wake()
  }

  /** See `LiveSource.close()`. */
  close (): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    for (const subscriber of this.subscribers) subscriber.end('source-ended')
    for (const wake of this.waiters) wake()
  }

  /**
   * A route shows the source: the first one gives it its logger, and the first push route its name in events (a
   * snapshot route names it until one does: a push route names the source of its metrics, a snapshot route none).
   */
  adopt (log: Logger, route: string, push: boolean): void {
    this.log ??= log
    if (this.namedByPush || (this.name !== '' && !push)) return
    this.name = route
    this.namedByPush = push
  }

  /** What this source's events carry. */
  about (): SourceEventBase {
    return { source: this.source, route: this.name }
  }

  /** How long the source has been offline in all, the outage going on included, in ms. */
  get offlineMs (): number {
    return this.offlineMsBefore + (this.offlineSince === undefined ? 0 : performance.now() - this.offlineFrom)
  }

  subscribe (subscriber: LiveSubscriber<unknown>): void {
    this.subscribers.add(subscriber)
  }

  /** A route is gone (its app closed); with no route left, a producer has no reason to run. */
  unsubscribe (subscriber: LiveSubscriber<unknown>): void {
    this.subscribers.delete(subscriber)
    if (this.subscribers.size === 0) this.unwatched()
  }

  /** A viewer or a snapshot request wants frames: a stopped producer starts, and the offline clock with it. */
  acquire (): void {
    if (this.demand++ === 0) {
      this.heardAt = performance.now()
      this.watch()
    }
    this.wanted(true)
  }

  release (): void {
    if (--this.demand > 0) return
    clearTimeout(this.offlineTimer)
    this.offlineTimer = undefined
    this.wanted(false)
  }

  /** Arms the offline clock, unless it is off, armed, or has no reason to run. */
  private watch (): void {
    if (this.offlineAfterMs === 0 || this.offlineTimer !== undefined || this.offlineSince !== undefined || this.demand === 0) return
    // unref: a watch over viewers must not keep the process alive by itself.
    this.offlineTimer = setTimeout(this.checkHeard, this.heardAt + this.offlineAfterMs - performance.now()).unref()
  }

  /** The clock ran out: offline if no frame came since it was armed, else armed again for what is left. */
  private readonly checkHeard = (): void => {
    this.offlineTimer = undefined
    if (performance.now() - this.heardAt >= this.offlineAfterMs) this.setOffline(true)
    else this.watch()
  }

  /**
   * The one place the source goes offline (its producer is not delivering: every route shows its offline part,
   * and a snapshot waiting for a frame is answered) or online again (a frame came, or the producer stopped for
   * want of viewers, which is not being offline).
   */
  protected setOffline (offline: boolean, why: SourceOnlineEvent['reason'] = 'frame'): void {
    const { offlineSince } = this
    if (offline === (offlineSince !== undefined)) return
    clearTimeout(this.offlineTimer)
    this.offlineTimer = undefined
    if (offlineSince !== undefined) {
      const offlineMs = performance.now() - this.offlineFrom
      this.offlineMsBefore += offlineMs
      this.offlineSince = undefined
      if (events.sourceOnline.hasSubscribers) events.sourceOnline.publish({ ...this.about(), since: offlineSince, offlineMs, reason: why })
      this.watch()
      return
    }
    // A frame held for its turn came before the producer said it was not delivering: shown after the offline
    // part, it would stand for a source that is back.
    this.dropHeld()
    const since = this.offlineSince = Date.now()
    this.offlineFrom = performance.now()
    if (events.sourceOffline.hasSubscribers) events.sourceOffline.publish({ ...this.about(), since })
    for (const subscriber of this.subscribers) subscriber.offline?.(since)
    for (const wake of this.waiters) wake()
  }

  /**
   * Whether the source's frames come from a producer of its own (`liveFrom()`, `fromCommand()`, `relay()`,
   * `redisSource()`), started for its viewers: an ingest route's publisher would be a second feeder.
   */
  get hasProducer (): boolean {
    return false
  }

  /** Whether a publisher from outside (an ingest route's) feeds the source now: one at a time, over every route and
   * app, and both builds (ESM, CommonJS), which share the hub but not their modules. */
  fedFromOutside = false

  /**
   * Whoever fed the source from outside (an ingest route's publisher) is gone: its viewers get the offline part
   * until a frame comes again. A source whose producer runs here is told so by its producer alone.
   */
  publisherGone (): void {
    this.setOffline(true)
  }

  /** The next frame published within `timeoutMs` (or until `cancel` fires or the source closes), else the latest. */
  nextFrame (timeoutMs: number, cancel: Arm): Promise<PublishedFrame | undefined> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(this.latest)
      let disarm = noop
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(done)
        disarm()
        resolve(this.latest)
      }
      const timer = setTimeout(done, timeoutMs)
      this.waiters.add(done)
      disarm = cancel(done)
    })
  }

  /** Settles once the producers stopped so far have finished stopping (processes exited, connections closed). */
  stopped (): Promise<void> {
    return Promise.resolve()
  }

  /** Called on each new demand (true) and when the last one ends (false). */
  protected wanted (_on: boolean): void {}

  /** Called when no route shows the source any more. */
  protected unwatched (): void {}

  /** Ends the streams of every route, leaving the source open for viewers to come. */
  protected endStreams (reason: EndReason): void {
    this.flush()
    for (const subscriber of this.subscribers) subscriber.end(reason)
  }

  /** Forgets the latest frame, and the one held for its turn: a stopped producer's frames are not news to the next
   * viewer; nor is it offline. */
  protected forget (): void {
    this.setOffline(false, 'stopped')
    this.latest = undefined
    this.dropHeld()
  }

  /** Drops the frame held for its turn, if any, counting it as capped. */
  private dropHeld (): void {
    clearTimeout(this.heldTimer)
    if (this.held !== undefined) this.framesCapped++
    this.held = undefined
  }
}

/** How a message names a live source: by the factories that make one. */
export const A_LIVE_SOURCE = 'a live source (createLiveSource(), liveFrom(), fromCommand(), relay(), redisSource())'

export function isLiveSource (value: unknown): value is LiveSource {
  return typeof value === 'object' && value !== null && HUB in value
}

/** The hub behind a live source's handle. */
export function hubOf (source: LiveSource): LiveHub {
  return (source as Handle)[HUB]
}

/** A live source: call `publish(frame)` whenever a frame is ready; every viewer of its routes gets it. */
export function createLiveSource (options?: LiveSourceOptions): LiveSource {
  checkFactoryOptions('createLiveSource()', options, LIVE_SOURCE_KEYS)
  return new LiveHub(options).source
}
