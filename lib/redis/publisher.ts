// Passes a live source's frames to a Redis channel, for `redisSource()` in every process to show. The source's
// producer runs only while some process anywhere has a viewer of the channel, and in one publisher at a time.
import { performance } from 'node:perf_hooks'
import { checkNumber, invalidOption } from '../core/check.js'
import { FST_SERVER_PUSH_FRAME_TOO_LARGE } from '../core/errors.js'
import { CONSOLE_LOG, type Logger } from '../core/logger.js'
import { A_LIVE_SOURCE, hubOf, isLiveSource, type LiveHub, type LiveSource, type LiveSubscriber, type PublishedFrame } from '../core/live/source.js'
import { addressOf, checkRedisOptions, DEFAULT_MAX_FRAME_BYTES, namesOf, newId, RedisLink, RedisReport, type RedisNames, type RedisOptions } from './link.js'
import { encodeMessage, numberMessage } from './message.js'

export interface PublishToRedisOptions extends RedisOptions {
  /** The largest frame body passed on, in bytes: a bigger one is refused (FST_SERVER_PUSH_FRAME_TOO_LARGE).
   * Redis cuts a subscriber whose unread messages pass 32 MB, or 8 MB for a minute. Default 4 MiB. */
  maxFrameBytes?: number
  /** How long Redis keeps the last frame for a first viewer, in ms, after the producer stops publishing. Default 30000. */
  latestTtlMs?: number
  /** How often the viewer count is checked again while it is not zero, in ms: a process that vanished without a
   * word is counted out by then. Default 1000. */
  demandCheckMs?: number
  /** How long the producer role outlives a publisher that stopped answering, in ms: another publisher takes over
   * after this. Greater than demandCheckMs. Default 5000. */
  producerTtlMs?: number
  /** Where to log Redis faults. Default: the logger of the first route that shows the source, else the console. */
  log?: Logger
}

/** What `publishToRedis()` returns. */
export interface RedisPublisher {
  /** Whether this publisher is the producer now: some process has viewers and no other publisher is producing. */
  readonly producing: boolean
  /** Frames published to Redis. */
  readonly framesSent: number
  /** Frames not published: Redis was out of reach, or a newer frame came while Redis still had the one before. */
  readonly framesDropped: number
  /** Stops publishing and gives up the producer role; settles once the connections are closed and the source's
   * producer (if no route of this process shows it) has stopped. */
  close (): Promise<void>
}

// Takes the producer role if it is free or already this publisher's, for ARGV[2] ms.
const CLAIM = `local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`

// Gives the role up, and the last frame with it (it is not news to the next viewer), if it is this publisher's.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
end
return 0`

class Publisher implements LiveSubscriber<Buffer | undefined>, RedisPublisher {
  readonly id = newId()
  producing = false
  framesSent = 0
  framesDropped = 0
  private readonly names: RedisNames
  private readonly report: RedisReport
  private readonly link: RedisLink
  private closed = false
  private checking = false
  private checkAgain = false
  private timer: NodeJS.Timeout | undefined
  /** When Redis last confirmed the producer role: it lapses producerTtlMs later, here as in Redis. */
  private renewedAt = 0
  /** A message on its way to Redis, and the newest one waiting for it. */
  private sending = false
  private waiting: Buffer | undefined
  /** Messages sent: their numbers let a receiver count what it missed. */
  private numbered = 0

  constructor (
    private readonly hub: LiveHub,
    options: PublishToRedisOptions,
    private readonly limits: { maxFrameBytes: number, latestTtlMs: number, demandCheckMs: number, producerTtlMs: number }
  ) {
    this.names = namesOf(options)
    this.report = new RedisReport(addressOf(options), () => options.log ?? hub.log ?? CONSOLE_LOG, options.channel, 'publisher')
    // Viewers coming and going anywhere say so on the demand channel; connected again, the viewers are counted anew.
    const demand = { channel: this.names.demand, onMessage: () => { this.check() } }
    this.link = new RedisLink(options, this.report, demand, () => { this.check() })
    hub.subscribe(this)
    this.link.open()
  }

  encode (frame: PublishedFrame): Buffer | undefined {
    const { maxFrameBytes } = this.limits
    if (frame.body.length > maxFrameBytes) throw new FST_SERVER_PUSH_FRAME_TOO_LARGE(frame.body.length, maxFrameBytes)
    return this.producing ? encodeMessage(frame, this.id) : undefined
  }

  deliver (message: Buffer | undefined): void {
    if (message === undefined) return
    if (!this.sending) {
      this.send(message)
      return
    }
    if (this.waiting !== undefined) this.framesDropped++
    this.waiting = message
  }

  /**
   * The producer ended or failed, or the source was closed: the role is given up, so that the next check starts
   * the producer again (demandCheckMs later, a pause between failures), or another publisher takes over.
   */
  end (): void {
    this.produce(false)
  }

  /** One message at a time, the newest next: a slow Redis costs frames, never memory. */
  private send (message: Buffer): void {
    this.sending = true
    numberMessage(message, ++this.numbered)
    Promise.all([
      this.link.send(['PUBLISH', this.names.frames, message]),
      this.link.send(['SET', this.names.latest, message, 'PX', String(this.limits.latestTtlMs)])
    ]).then(([published]) => {
      if (published === undefined) this.framesDropped++
      else this.framesSent++
      this.sending = false
      const next = this.waiting
      this.waiting = undefined
      if (next !== undefined && this.producing) this.send(next)
    })
  }

  /** Counts the processes with viewers, and takes or gives up the producer role; one check at a time. */
  private check (): void {
    // A viewer's word can still arrive while close() waits for the subscriber to close.
    /* c8 ignore next */
    if (this.closed) return
    if (this.checking) {
      this.checkAgain = true
      return
    }
    this.checking = true
    clearTimeout(this.timer)
    this.recount().then((again) => {
      this.checking = false
      if (this.closed) return
      if (this.checkAgain) {
        this.checkAgain = false
        this.check()
      } else if (again) {
        // unref: the connections keep the process alive while they should.
        this.timer = setTimeout(() => { this.check() }, this.limits.demandCheckMs).unref()
      }
    })
  }

  /** One check; resolves with whether to check again later (while some process has viewers, or Redis is away). */
  private async recount (): Promise<boolean> {
    const reply = await this.link.send(['PUBSUB', 'NUMSUB', this.names.frames])
    const lapsed = performance.now() - this.renewedAt > this.limits.producerTtlMs
    if (!Array.isArray(reply)) {
      // Redis out of reach: the producer runs on until its role would have lapsed in Redis too.
      if (lapsed) this.produce(false)
      return this.producing
    }
    if (!(Number(reply[1]) > 0) || this.hub.closed) {
      this.produce(false)
      return false
    }
    const claim = await this.link.send(['EVAL', CLAIM, '1', this.names.producer, this.id, String(this.limits.producerTtlMs)])
    if (claim === 1) {
      this.renewedAt = performance.now()
      this.produce(true)
    } else if (claim === 0 || lapsed) {
      this.produce(false)
    }
    return true
  }

  private produce (on: boolean): void {
    // A check Redis answers after close() must not start the producer again.
    if (on === this.producing || this.closed) return
    this.producing = on
    if (on) {
      // A publish-only process shows the source on no route, which would have given its producer a logger.
      this.hub.adopt(this.report.logger(), this.names.frames, false)
      this.hub.acquire()
    } else {
      this.hub.release()
      this.waiting = undefined
      this.link.send(['EVAL', RELEASE, '2', this.names.producer, this.names.latest, this.id])
    }
  }

  async close (): Promise<void> {
    if (this.closed) return this.hub.stopped()
    this.closed = true
    clearTimeout(this.timer)
    const { producer, latest } = this.names
    if (this.producing) {
      this.producing = false
      this.hub.release()
    }
    this.hub.unsubscribe(this)
    await this.link.close(['EVAL', RELEASE, '2', producer, latest, this.id])
    await this.hub.stopped()
  }
}

/**
 * Publishes the frames of `source` (any live source: `createLiveSource()`, `liveFrom()`, `fromCommand()`, `relay()`,
 * `redisSource()`) to `channel`, for `redisSource()` in any process to show. Its producer runs only while a process
 * anywhere has a viewer of the channel, and, of several publishers of one channel (every instance of an app), in
 * one only.
 */
export function publishToRedis (source: LiveSource, options: PublishToRedisOptions): RedisPublisher {
  const where = 'publishToRedis()'
  if (!isLiveSource(source)) throw invalidOption(where, `the first argument must be ${A_LIVE_SOURCE}`)
  const checked = checkRedisOptions(where, options, ['maxFrameBytes', 'latestTtlMs', 'demandCheckMs', 'producerTtlMs', 'log'])
  const demandCheckMs = checkNumber(where, 'demandCheckMs', options.demandCheckMs, 1) ?? 1000
  const producerTtlMs = checkNumber(where, 'producerTtlMs', options.producerTtlMs, 1) ?? 5000
  if (producerTtlMs <= demandCheckMs) throw invalidOption(where, `producerTtlMs (${producerTtlMs}) must be greater than demandCheckMs (${demandCheckMs})`)
  return new Publisher(hubOf(source), checked, {
    maxFrameBytes: checkNumber(where, 'maxFrameBytes', options.maxFrameBytes, 1) ?? DEFAULT_MAX_FRAME_BYTES,
    latestTtlMs: checkNumber(where, 'latestTtlMs', options.latestTtlMs, 1) ?? 30_000,
    demandCheckMs,
    producerTtlMs
  })
}
