// A live source whose frames come from a Redis channel: subscribed only while this process has viewers (plus a
// linger), fed to them like any live source's, latest frame first.
import { checkNumber } from '../core/check.js'
import type { Logger } from '../core/logger.js'
import { OnDemandSource } from '../core/live/on-demand.js'
import type { LiveSource } from '../core/live/source.js'
import { addressOf, checkRedisOptions, namesOf, RedisLink, RedisReport, type RedisNames, type RedisOptions } from './link.js'
import { decodeMessage, type FrameMessage } from './message.js'

export interface RedisSourceOptions extends RedisOptions {
  /** How long this process stays subscribed after its last viewer left, in ms: a viewer that reloads finds the
   * frames still coming, and a publisher's producer keeps running meanwhile. Default 2000. */
  lingerMs?: number
}

class RedisSource extends OnDemandSource {
  private readonly names: RedisNames
  private readonly report: RedisReport
  private link: RedisLink | undefined
  /** The newest frame fed to viewers: which publisher, and its number there. */
  private newest: { publisher: string, seq: number } | undefined
  /** Messages received on this subscription; a stored frame read meanwhile is older than they are. */
  private received = 0
  /** Whether the last message was refused, so that a run of them is logged once. */
  private refusing = false

  constructor (private readonly options: RedisOptions, lingerMs: number) {
    // The frames carry the X-Timestamp they were published with.
    super(lingerMs, { timestamps: false })
    this.names = namesOf(options)
    this.report = new RedisReport(addressOf(options), () => this.log as Logger)
  }

  protected start (): void {
    if (this.link === undefined && !this.closed) this.connect()
  }

  private connect (): void {
    const frames = { channel: this.names.frames, onMessage: (message: Buffer) => { this.receive(message) } }
    // Subscribed, for the first time or again: (re)announce this process and fetch the latest frame.
    const link = this.link = new RedisLink(this.options, this.report, frames, () => { this.announce(link) })
    this.received = 0
    link.open()
  }

  /** Tells publishers that this process has viewers, and gives them the stored frame if none came yet. */
  private announce (link: RedisLink): void {
    const before = this.received
    link.send(['PUBLISH', this.names.demand, '+'])
    link.getBuffer(this.names.latest).then((stored) => {
      if (stored !== null && this.received === before && this.link === link) this.receive(stored)
    })
  }

  /** Closes the connections: Redis counts this process out, and the next viewer connects anew. */
  protected stop (): void {
    const link = this.link
    if (link === undefined) return
    this.link = undefined
    this.newest = undefined
    this.forget()
    this.stopsWith(link.close(['PUBLISH', this.names.demand, '-']))
  }

  private receive (message: Buffer): void {
    this.received++
    let got: FrameMessage
    try {
      got = decodeMessage(message)
    } catch (error) {
      this.refused(error)
      return
    }
    const { newest } = this
    if (newest?.publisher === got.publisher) {
      if (got.seq <= newest.seq) return
      const missed = got.seq - newest.seq - 1
      if (missed > 0) {
        this.framesDropped += missed
        this.report.warn({ missed, channel: this.options.channel }, 'server push missed frames published to Redis')
      }
    }
    this.newest = { publisher: got.publisher, seq: got.seq }
    try {
      this.publishChecked(got.frame, [])
      this.refusing = false
    } catch (error) {
      // A body holding a route's boundary delimiter (FST_SERVER_PUSH_BAD_FRAME).
      this.refused(error)
    }
  }

  private refused (error: unknown): void {
    this.framesRefused++
    if (this.refusing) return
    this.refusing = true
    this.report.warn({ err: error, channel: this.options.channel }, 'server push refused a frame from Redis')
  }
}

/**
 * A live source showing the frames published to `channel` (by `publishToRedis()` in this or another process), for
 * any route's `source`. It subscribes while this process has viewers or snapshot requests (plus `lingerMs`), and a
 * first viewer gets the last frame published at once.
 */
export function redisSource (options: RedisSourceOptions): LiveSource {
  const checked = checkRedisOptions('redisSource()', options, ['lingerMs'])
  const lingerMs = checkNumber('redisSource()', 'lingerMs', options.lingerMs, 0) ?? 2000
  return new RedisSource(checked, lingerMs)
}
