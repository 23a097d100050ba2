// A live source whose frames come from a Redis channel: subscribed only while this process has viewers (plus a
// linger), fed to them like any live source's, latest frame first. Whoever can PUBLISH on the channel can send
// anything: a message is shown only if it is a frame of an allowed type and size with labels alone for headers,
// its number can neither silence the publisher nor make the counters lie by much, and its warnings are bounded.
import { performance } from 'node:perf_hooks'
import { BoundedWarning } from '../core/bounded-warning.js'
import { checkNumber, invalidOption } from '../core/check.js'
import { events } from '../core/events.js'
import type { CheckedFrame } from '../core/frame.js'
import type { Logger } from '../core/logger.js'
import { OnDemandHub } from '../core/live/on-demand.js'
import { CAMERA_OFFLINE_AFTER_MS, SHARED_SOURCE_MAX_FPS, type LiveSource, type LiveSourceOptions } from '../core/live/source.js'
import { allowedTypes, essence, IMAGE_TYPES } from '../core/syntax.js'
import { addressOf, checkRedisOptions, DEFAULT_MAX_FRAME_BYTES, namesOf, RedisLink, RedisReport, type RedisNames, type RedisOptions } from './link.js'
import { decodeMessage, Numbering, type FrameMessage } from './message.js'

/** What `redisSource()` takes; its `maxFps` defaults to 60, `Infinity` for no cap, its `offlineAfterMs` to 10000. */
export interface RedisSourceOptions extends RedisOptions, Pick<LiveSourceOptions, 'maxFps' | 'offlineAfterMs'> {
  /** How long this process stays subscribed after its last viewer left, in ms: a viewer that reloads finds the
   * frames still coming, and a publisher's producer keeps running meanwhile. Default 2000. */
  lingerMs?: number
  /**
   * The part types shown as a message labels them (type/subtype, parameters aside). A message of another type is
   * refused: whoever can PUBLISH on the channel would otherwise have `text/html` rendered as a page of this site,
   * scripts included. A frame with no type of its own gets the route's. Default: `RELAYED_TYPES`, the still-image
   * types browsers show.
   */
  types?: readonly string[]
  /** The largest frame body taken from the channel, in bytes: a bigger message is refused. Default 4 MiB, as
   * `publishToRedis()`'s. */
  maxFrameBytes?: number
}

/** A source's report of Redis's faults: Redis lost, the source is offline until its next frame. */
class SourceReport extends RedisReport {
  constructor (address: string, logger: () => Logger, channel: string, private readonly onLost: () => void) {
    super(address, logger, channel, 'source')
  }

  override lost (err: unknown): void {
    super.lost(err)
    this.onLost()
  }
}

class RedisHub extends OnDemandHub {
  private readonly names: RedisNames
  private readonly report: RedisReport
  private link: RedisLink | undefined
  private readonly numbering = new Numbering()
  /** Messages received on this subscription; a stored frame read meanwhile is older than they are. */
  private received = 0
  private readonly refusals = new BoundedWarning()
  private readonly gaps = new BoundedWarning()

  constructor (
    private readonly options: RedisOptions,
    lingerMs: number,
    private readonly limits: { types: ReadonlySet<string>, maxFrameBytes: number },
    live: Pick<LiveSourceOptions, 'maxFps' | 'offlineAfterMs'>
  ) {
    // The frames carry the X-Timestamp they were published with.
    super(lingerMs, { timestamps: false, ...live }, 'redisSource()')
    this.names = namesOf(options)
    // Told only while a link is open: a closed one reports nothing.
    this.report = new SourceReport(addressOf(options), () => this.log as Logger, options.channel, () => { this.setOffline(true) })
  }

  protected start (): void {
    if (this.link === undefined && !this.closed) this.connect()
  }

  private connect (): void {
    const frames = { channel: this.names.frames, onMessage: (message: Buffer) => { this.receive(message, false) } }
    // Subscribed, for the first time or again: (re)announce this process and fetch the latest frame.
    const link = this.link = new RedisLink(this.options, this.report, frames, () => { this.announce(link) })
    this.received = 0
    if (events.sourceStart.hasSubscribers) events.sourceStart.publish(this.about())
    link.open()
  }

  /** Tells publishers that this process has viewers, and gives them the stored frame if none came yet. */
  private announce (link: RedisLink): void {
    const before = this.received
    link.send(['PUBLISH', this.names.demand, '+'])
    link.getBuffer(this.names.latest).then((stored) => {
      if (stored !== null && this.received === before && this.link === link) this.receive(stored, true)
    })
  }

  /** Closes the connections: Redis counts this process out, and the next viewer connects anew. */
  protected stop (): void {
    const link = this.link
    if (link === undefined) return
    this.link = undefined
    this.numbering.reset()
    this.forget()
    this.stopsWith(link.close(['PUBLISH', this.names.demand, '-']))
    if (events.sourceStop.hasSubscribers) events.sourceStop.publish(this.about())
  }

  /** A message from the channel, or the stored frame read after subscribing. */
  private receive (message: Buffer, stored: boolean): void {
    this.received++
    let got: FrameMessage
    try {
      got = decodeMessage(message, this.limits.maxFrameBytes)
      // Before its number is taken: a message refused whole moves nothing, the numbering included.
      this.checkType(got.frame)
    } catch (error) {
      this.refused(error)
      return
    }
    const { news, missed } = this.numbering.take(got, stored, performance.now())
    if (missed > 0) this.missed(missed)
    if (!news) return
    try {
      this.publishChecked(got.frame, [])
    } catch (error) {
      // A body holding a route's boundary delimiter (FST_SERVER_PUSH_BAD_FRAME).
      this.refused(error)
    }
  }

  private checkType ({ contentType }: CheckedFrame): void {
    const { types } = this.limits
    if (contentType !== undefined && !types.has(essence(contentType))) {
      throw new Error(`a frame of type ${contentType}, not one of types (${[...types].join(', ')})`)
    }
  }

  private missed (count: number): void {
    this.framesDropped += count
    if (events.redisMiss.hasSubscribers) events.redisMiss.publish({ ...this.about(), channel: this.options.channel, count })
    const missed = this.gaps.add(count)
    if (missed > 0) this.report.warn({ missed, channel: this.options.channel }, 'server push missed frames published to Redis')
  }

  private refused (error: unknown): void {
    this.framesRefused++
    const refused = this.refusals.add(1)
    if (refused > 0) this.report.warn({ err: error, refused, channel: this.options.channel }, 'server push refused a frame from Redis')
  }
}

/**
 * A live source showing the frames published to `channel` (by `publishToRedis()` in this or another process), for
 * any route's `source`. It subscribes while this process has viewers or snapshot requests (plus `lingerMs`), and a
 * first viewer gets the last frame published at once.
 */
export function redisSource (options: RedisSourceOptions): LiveSource {
  const where = 'redisSource()'
  const checked = checkRedisOptions(where, options, ['lingerMs', 'types', 'maxFrameBytes', 'maxFps', 'offlineAfterMs'])
  const lingerMs = checkNumber(where, 'lingerMs', options.lingerMs, 0) ?? 2000
  return new RedisHub(checked, lingerMs, {
    types: allowedTypes(options.types ?? IMAGE_TYPES, (problem) => invalidOption(where, problem)),
    maxFrameBytes: checkNumber(where, 'maxFrameBytes', options.maxFrameBytes, 1) ?? DEFAULT_MAX_FRAME_BYTES
  }, { maxFps: options.maxFps ?? SHARED_SOURCE_MAX_FPS, offlineAfterMs: options.offlineAfterMs ?? CAMERA_OFFLINE_AFTER_MS }).source
}
