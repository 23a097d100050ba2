// The two connections a Redis source or publisher holds (one for commands, one subscribed, as Redis requires), the
// names it uses on the server, and how their failures are told: once per outage, with the address, never the
// password.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createClient, ErrorReply, RESP_TYPES } from '@redis/client'
import { noop, settlesWithin } from '../core/async.js'
import { checkKeys, checkNumber, invalidOption, isObject } from '../core/check.js'
import { events, type RedisEventBase } from '../core/events.js'
import type { Logger } from '../core/logger.js'

/** The node-redis client calls the plugin makes: a client of `createClient()` from `redis` or `@redis/client`. */
export interface RedisClient {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect (): Promise<unknown>
  close (): Promise<unknown>
  destroy (): void
  duplicate (): RedisClient
  sendCommand (args: Array<string | Buffer>, options?: object): Promise<unknown>
  subscribe (channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<unknown>
  on (event: 'error', listener: (err: Error) => void): unknown
  on (event: 'ready', listener: () => void): unknown
  off (event: 'error', listener: (err: Error) => void): unknown
  off (event: 'ready', listener: () => void): unknown
}

/** Where the frames of one channel travel, and how to reach that Redis. */
export interface RedisOptions {
  /** The channel's name: a publisher and the sources showing its frames use the same one. */
  channel: string
  /**
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. Default `redis://127.0.0.1:6379`.
   * Ignored when `client` is given.
   */
  url?: string
  /**
   * A client of yours (node-redis's `createClient()`), connected or not, for the commands; its `duplicate()`
   * subscribes. It is not closed with the source or publisher. Default: clients made from `url`.
   */
  client?: RedisClient
  /** `rediss://` only: certificates to trust besides the system's (a self-signed Redis's, say). */
  ca?: string | Buffer | Array<string | Buffer>
  /** Put before every key and channel name, to share one Redis with other apps. Default `server-push:`. */
  prefix?: string
  /** The wait before reconnecting to a Redis that went away, in ms; doubles with each failure in a row up to
   * maxRetryDelayMs, each wait drawn between half and all of it. Default 100. Ignored with `client`. */
  retryDelayMs?: number
  /** Default 5000. */
  maxRetryDelayMs?: number
}

/** The keys and channels of one channel name. */
export interface RedisNames {
  /** Pub/sub: the frames. Its subscriber count is how many processes have viewers. */
  readonly frames: string
  /** Pub/sub: a process has gained or lost its viewers. */
  readonly demand: string
  /** Key: the last frame, for a process's first viewer. */
  readonly latest: string
  /** Key: which publisher produces now. */
  readonly producer: string
}

const KNOWN = ['channel', 'url', 'client', 'ca', 'prefix', 'retryDelayMs', 'maxRetryDelayMs']

/** Checks the options common to sources and publishers; `more` are the caller's own option names. */
export function checkRedisOptions (where: string, options: unknown, more: readonly string[]): RedisOptions {
  if (!isObject(options)) throw invalidOption(where, 'options with a channel are required')
  checkKeys(where, options, new Set([...KNOWN, ...more]))
  const { channel, url, client, prefix } = options
  if (typeof channel !== 'string' || channel === '') throw invalidOption(where, 'channel must be a non-empty string')
  if (prefix !== undefined && typeof prefix !== 'string') throw invalidOption(where, 'prefix must be a string')
  if (client !== undefined && (!isObject(client) || typeof client.duplicate !== 'function')) {
    throw invalidOption(where, 'client must be a node-redis client (createClient() of redis or @redis/client)')
  }
  if (url !== undefined) {
    if (typeof url !== 'string' || !URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol)) {
      throw invalidOption(where, `url must be a redis:// or rediss:// URL, got ${typeof url === 'string' ? JSON.stringify(url.replace(/:[^:@/]*@/, ':***@')) : typeof url}`)
    }
  }
  checkNumber(where, 'retryDelayMs', options.retryDelayMs, 1)
  checkNumber(where, 'maxRetryDelayMs', options.maxRetryDelayMs, 1)
  return options as unknown as RedisOptions
}

const DEFAULT_URL = 'redis://127.0.0.1:6379'

/** The largest frame body a publisher sends and a source takes, unless told otherwise: 4 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 2 ** 20

export function namesOf ({ prefix = 'server-push:', channel }: RedisOptions): RedisNames {
  const base = `${prefix}${channel}`
  return { frames: `${base}:frames`, demand: `${base}:demand`, latest: `${base}:latest`, producer: `${base}:producer` }
}

/** The URL as it may be logged: the password hidden. */
function printable (url: string): string {
  const shown = new URL(url)
  if (shown.password !== '') shown.password = '***'
  return shown.href
}

/** A process-unique name for a publisher or source, in Redis and in logs. */
export function newId (): string {
  return randomBytes(6).toString('hex')
}

/** How `options`' Redis is named in logs: its URL with the password hidden. */
export function addressOf ({ client, url = DEFAULT_URL }: RedisOptions): string {
  return client === undefined ? printable(url) : 'the client given'
}

/**
 * What a source or publisher tells of Redis's faults: an outage once (and its end), a command Redis refused once
 * per reason. It outlives the connections, which a source makes anew for each run of viewers.
 */
export class RedisReport {
  private downSince: number | undefined
  private readonly refusals = new Set<string>()
  /** What its events carry. */
  private readonly about: RedisEventBase

  /** `logger` is read at each line: a source gets its route's logger after it is made. */
  constructor (readonly address: string, readonly logger: () => Logger, channel: string, role: RedisEventBase['role']) {
    this.about = { channel, redis: address, role }
  }

  lost (err: unknown): void {
    if (this.downSince !== undefined) return
    this.downSince = performance.now()
    this.logger().warn({ err, redis: this.address }, 'server push lost its Redis connection, reconnecting')
    if (events.redisLose.hasSubscribers) events.redisLose.publish({ ...this.about, error: err })
  }

  back (): void {
    if (this.downSince === undefined) return
    const downMs = Math.round(performance.now() - this.downSince)
    this.downSince = undefined
    this.logger().info({ redis: this.address, downMs }, 'server push reached Redis again')
    if (events.redisBack.hasSubscribers) events.redisBack.publish({ ...this.about, downMs })
  }

  /** A command failed: one Redis refused (an ACL, say) is told once per reason; a lost connection is the outage's. */
  failed (err: unknown, command: string): void {
    if (!(err instanceof ErrorReply) || this.refusals.has(err.message)) return
    this.refusals.add(err.message)
    this.logger().warn({ err, redis: this.address, command }, 'server push: Redis refused a command')
  }

  /** Where a warning of the owner's own goes. */
  warn (fields: object, msg: string): void {
    this.logger().warn({ ...fields, redis: this.address }, msg)
  }
}

/** The channel a link's subscriber listens to, and what it does with each message. */
export interface Subscription {
  readonly channel: string
  readonly onMessage: (message: Buffer) => void
}

/** The connections of one source or publisher, opened on first use and closed with it. */
export class RedisLink {
  readonly commands: RedisClient
  readonly subscriber: RedisClient
  private readonly own: RedisClient[]
  private closed = false
  /** Made once per link: node-redis subscribes again by itself after each reconnect. */
  private subscribed: Promise<unknown> | undefined
  private readonly onError = (err: Error): void => {
    if (!this.closed) this.report.lost(err)
  }

  private readonly onReady = (): void => {
    if (!this.commands.isReady || !this.subscriber.isReady) return
    this.report.back()
    const { channel, onMessage } = this.subscription
    // Gone again before the subscription was made: the next connection makes it.
    this.subscribed ??= this.subscriber.subscribe(channel, onMessage, true).catch(() => { this.subscribed = undefined })
    this.subscribed.then(() => { if (!this.closed && this.subscribed !== undefined) this.onBack() })
  }

  /** `onBack` runs each time both connections are ready and the subscriber listens, the first time included. */
  constructor (options: RedisOptions, private readonly report: RedisReport, private readonly subscription: Subscription, private readonly onBack: () => void) {
    const { client, url = DEFAULT_URL, ca, retryDelayMs = 100, maxRetryDelayMs = 5000 } = options
    if (client !== undefined) {
      this.commands = client
      this.subscriber = client.duplicate()
      this.own = [this.subscriber]
    } else {
      const reconnectStrategy = (retries: number): number => {
        const wait = Math.min(retryDelayMs * 2 ** Math.min(retries, 30), maxRetryDelayMs)
        return Math.round(wait / 2 + Math.random() * wait / 2)
      }
      // No offline queue for commands: a frame published while Redis is away is dropped, not kept for later.
      this.commands = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy, ...(ca === undefined ? {} : { ca }) } }) as unknown as RedisClient
      this.subscriber = this.commands.duplicate()
      this.own = [this.commands, this.subscriber]
    }
    for (const each of [this.commands, this.subscriber]) {
      each.on('error', this.onError)
      each.on('ready', this.onReady)
    }
  }

  /** Starts connecting what is not connected yet; failures are logged and retried, never thrown. */
  open (): void {
    for (const each of [this.commands, this.subscriber]) {
      if (!each.isOpen) each.connect().catch(this.onError)
    }
  }

  /** Sends a command; resolves with its reply, or undefined when it failed (told to the report). */
  async send (command: Array<string | Buffer>, options?: object): Promise<unknown> {
    try {
      return await this.commands.sendCommand(command, options)
    } catch (err) {
      this.report.failed(err, String(command[0]))
      return undefined
    }
  }

  /** The value of `key` as bytes (node-redis gives strings unless told), or null. */
  async getBuffer (key: string): Promise<Buffer | null> {
    const value = await this.send(['GET', key], BYTES)
    return Buffer.isBuffer(value) ? value : null
  }

  /**
   * Closes the connections made here (a client given is left open) and stops listening to them: the subscriber
   * first, so that Redis counts this process out, then `lastWords` is sent if Redis can be reached. A Redis that
   * stops answering gets CLOSE_GRACE_MS for each step, then the connection is cut.
   */
  async close (lastWords?: Array<string | Buffer>): Promise<void> {
    this.closed = true
    for (const each of [this.commands, this.subscriber]) {
      each.off('error', this.onError)
      each.off('ready', this.onReady)
    }
    // Late errors of a closing client must not crash the process for want of a listener.
    for (const each of this.own) each.on('error', noop)
    await shut(this.subscriber)
    if (lastWords !== undefined && this.commands.isReady) await settlesWithin(this.send(lastWords), CLOSE_GRACE_MS)
    if (this.own.includes(this.commands)) await shut(this.commands)
  }
}

// Long enough for a Redis that answers at all; a stuck one must not hold app.close() up.
const CLOSE_GRACE_MS = 1000

/** Closes a client cleanly if it is connected and Redis answers in time; else cuts it (destroy() is idempotent). */
async function shut (client: RedisClient): Promise<void> {
  if (client.isReady && await settlesWithin(client.close(), CLOSE_GRACE_MS)) return
  client.destroy()
}

const BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }
