// A live source fed by another server's MJPEG stream (an IP camera that chokes on more than a few viewers, or
// another app running this plugin): one upstream connection while anyone watches, fanned out to every viewer,
// and tried again, later and later, whenever the upstream fails (a connection is healthy, and the waits start
// over, only once it has relayed for as long as the wait before it).
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'
import { sleep, waitFor } from '../async.js'
import { checkFactoryOptions, checkNumber, invalidOption } from '../check.js'
import { events } from '../events.js'
import { toHeaderList } from '../headers.js'
import { LIVE_FROM_KEYS, ownProducer, type LiveFromOptions } from '../live/producer.js'
import { PartRate } from '../part-rate.js'
import { CAMERA_OFFLINE_AFTER_MS, checkMaxFps, checkOfflineAfterMs, SHARED_SOURCE_MAX_FPS, type LiveSource } from '../live/source.js'
import { boundaryOf, readMultipart, type MultipartReaderOptions } from '../read/multipart.js'
import { allowedTypes, essence, IMAGE_TYPES, isMediaType } from '../syntax.js'

export interface RelayOptions extends LiveFromOptions, MultipartReaderOptions {
  /** Basic auth user (Digest auth is not supported), when the URL does not carry one. */
  username?: string
  password?: string
  /** Extra request headers; a name that is not a token, or a value with CR, LF or another control character,
   * fails `relay()` (FST_SERVER_PUSH_INVALID_OPTION). */
  headers?: Record<string, string>
  /** `https:` only: certificates to trust besides the system's (a camera's self-signed one, say). */
  ca?: string | Buffer | Array<string | Buffer>
  /** How long to wait for the TCP (or TLS) connection, in ms. Default 5000. */
  connectTimeoutMs?: number
  /** How long to wait, once connected, for the response head, in ms. Default 10000. */
  headersTimeoutMs?: number
  /** How long the upstream may go without a whole part, sending nothing or dripping bytes, before the connection
   * is given up, in ms: longer than the upstream's longest quiet spell (a camera that sends only on motion, a
   * plugin route without idle repeat) and than its slowest frame takes to arrive. Default 10000. */
  idleTimeoutMs?: number
  /** The wait before the first retry, in ms; doubles with each failure in a row up to maxRetryDelayMs, each
   * wait drawn between half and all of it. Default 1000. */
  retryDelayMs?: number
  /** Default 30000. */
  maxRetryDelayMs?: number
  /**
   * The most parts the upstream may send within a second (of any type, empty ones too): a camera sends tens, and
   * a flood of thousands of tiny parts would keep a core busy reading them. The connection is given up, logged,
   * and tried again later and later. Default 1000.
   */
  maxPartsPerSecond?: number
  /**
   * The part types passed on as the upstream labels them (type/subtype, parameters aside). A part of any other
   * type is skipped and logged: an upstream (a compromised camera, a mistyped URL) sending `text/html` would
   * otherwise have it rendered as a page of this site, scripts included. A part with no type gets the route's.
   * Default: `RELAYED_TYPES`, the still-image types browsers show.
   */
  types?: readonly string[]
}

/** The part types `relay()` passes on unless told otherwise: images, which no browser runs. */
export const RELAYED_TYPES: readonly string[] = IMAGE_TYPES

/** The URL as it may be logged: the password and the query (where cameras take tokens too) hidden. */
function printable (url: URL): string {
  const shown = new URL(url.href)
  if (shown.password !== '') shown.password = '***'
  if (shown.search !== '') shown.search = '***'
  shown.hash = ''
  return shown.href
}

interface Timeouts { connectTimeoutMs: number, headersTimeoutMs: number }

/** Sends the request; resolves with the response head, rejects on an error or a timeout. */
function request (url: URL, options: https.RequestOptions, { connectTimeoutMs, headersTimeoutMs }: Timeouts): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get
    const req = get(url, options)
    const fail = (message: string): void => { req.destroy(new Error(message)) }
    let timer = setTimeout(fail, connectTimeoutMs, `no connection within ${connectTimeoutMs} ms`)
    req.on('socket', (socket) => socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      timer = setTimeout(fail, headersTimeoutMs, `no response within ${headersTimeoutMs} ms`)
    }))
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.on('response', (response) => {
      clearTimeout(timer)
      resolve(response)
    })
  })
}

const RELAY_KEYS = {
  ...LIVE_FROM_KEYS,
  username: true,
  password: true,
  headers: true,
  ca: true,
  connectTimeoutMs: true,
  headersTimeoutMs: true,
  idleTimeoutMs: true,
  retryDelayMs: true,
  maxRetryDelayMs: true,
  maxPartsPerSecond: true,
  types: true,
  maxPartBytes: true,
  maxHeaderBytes: true
} satisfies Record<keyof RelayOptions, true>

/**
 * A live source that relays the multipart/x-mixed-replace stream at `url` (`http:` or `https:`, basic auth in
 * the URL or in `username`/`password`): connected while the route has viewers (plus `lingerMs`), each upstream
 * part published to all of them. A refused connection, a timeout, an answer that is not 200 or not multipart,
 * a malformed stream or its end are each logged and tried again after a backoff.
 */
export function relay (url: string | URL, options: RelayOptions = {}): LiveSource {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw invalidOption('relay()', `${JSON.stringify(String(url))} is not a URL`)
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw invalidOption('relay()', `the URL must be http: or https:, got ${target.protocol}`)
  checkFactoryOptions('relay()', options, RELAY_KEYS)
  const {
    username, password, headers = {}, ca, connectTimeoutMs = 5000, headersTimeoutMs = 10_000, idleTimeoutMs = 10_000,
    retryDelayMs = 1000, maxRetryDelayMs = 30_000, maxPartsPerSecond = 1000, maxPartBytes, maxHeaderBytes, types = RELAYED_TYPES,
    maxFps = SHARED_SOURCE_MAX_FPS, offlineAfterMs = CAMERA_OFFLINE_AFTER_MS, ...live
  } = options
  const numbers = { connectTimeoutMs, headersTimeoutMs, idleTimeoutMs, retryDelayMs, maxPartsPerSecond, maxPartBytes, maxHeaderBytes }
  for (const [name, value] of Object.entries(numbers)) checkNumber('relay()', name, value, 1)
  checkNumber('relay()', 'maxRetryDelayMs', maxRetryDelayMs, retryDelayMs)
  checkMaxFps('relay()', maxFps)
  checkOfflineAfterMs('relay()', offlineAfterMs)
  const allowed = allowedTypes(types, (problem) => invalidOption('relay()', problem))
  // Checked now, not at each connection: Node would refuse a bad one there, and the relay would retry forever.
  toHeaderList(headers, (problem) => invalidOption('relay()', problem))
  const where = printable(target)
  // agent: false, a fresh connection each time, so that its connect timeout means something. Credentials in the
  // URL go as they are; given as options, they win. Identity: JPEGs do not compress, and a decoder would be a
  // bomb's way past maxPartBytes; an upstream that encodes anyway is refused, saying so.
  const requestOptions: https.RequestOptions = { agent: false, headers: { Accept: 'multipart/x-mixed-replace', 'Accept-Encoding': 'identity', ...headers } }
  if (ca !== undefined) requestOptions.ca = ca
  if (username !== undefined) requestOptions.auth = `${username}:${password ?? ''}`
  /** The wait after `failures` failures in a row, before it is drawn between half and all of it. */
  const backoff = (failures: number): number => Math.min(maxRetryDelayMs, retryDelayMs * 2 ** failures)
  return ownProducer(async function * ({ signal, log, offline, about }) {
    let failures = 0
    while (!signal.aborted) {
      let response: IncomingMessage | undefined
      let partTimer: NodeJS.Timeout | undefined
      // When the response came, and when the last frame was relayed (performance.now()).
      let connectedAt = 0
      let relayedAt = 0
      try {
        response = await request(target, { ...requestOptions, signal }, { connectTimeoutMs, headersTimeoutMs })
        connectedAt = performance.now()
        const type = response.headers['content-type'] ?? ''
        const encoding = response.headers['content-encoding']
        if (response.statusCode !== 200) throw new Error(`upstream answered ${String(response.statusCode)} ${String(response.statusMessage)}`)
        if (encoding !== undefined && !/^\s*identity\s*$/i.test(encoding)) {
          throw new Error(`upstream sent Content-Encoding: ${encoding}; the relay asked for identity and reads only unencoded streams`)
        }
        const boundary = /^multipart\//i.test(type) ? boundaryOf(type) : undefined
        if (boundary === undefined) throw new Error(`upstream is not a multipart stream (Content-Type: ${type || 'none'})`)
        const upstream = response
        // One timer for the connection, pushed back by each whole part: an upstream that drips bytes (the socket
        // never idle) is given up too, and the log says which it was.
        const { socket } = upstream
        let partAt = socket.bytesRead
        partTimer = setTimeout(() => {
          const bytes = socket.bytesRead - partAt
          upstream.destroy(new Error(bytes === 0
            ? `upstream sent nothing for ${idleTimeoutMs} ms`
            : `upstream sent ${bytes} bytes in ${idleTimeoutMs} ms but no frame to relay: too slow, not parts, or parts of types not allowed`))
        }, idleTimeoutMs)
        log.info({ url: where }, 'server push relay connected')
        if (events.relayConnect.hasSubscribers) events.relayConnect.publish({ ...about, url: where })
        let refused = 0
        const rate = new PartRate(maxPartsPerSecond, connectedAt)
        for await (const part of readMultipart(upstream, boundary, { maxPartBytes, maxHeaderBytes })) {
          if (!rate.count()) throw new Error(`upstream sent more than ${maxPartsPerSecond} parts within a second`)
          if (part.body.length === 0) continue
          const contentType = part.headers['content-type']
          const typed = contentType !== undefined && isMediaType(contentType)
          if (typed && !allowed.has(essence(contentType))) {
            // Once per connection: an upstream sending nothing else would otherwise fill the log. Not progress:
            // such an upstream is given up after idleTimeoutMs, and retried later and later.
            if (refused++ === 0) log.warn({ url: where, contentType, types }, 'server push relay: part of a type not allowed, skipped (and any more on this connection)')
            continue
          }
          partTimer.refresh()
          partAt = socket.bytesRead
          relayedAt = performance.now()
          yield typed ? { body: part.body, contentType } : { body: part.body }
        }
        throw new Error('upstream ended the stream')
      } catch (err) {
        clearTimeout(partTimer)
        if (signal.aborted) return
        // Offline from the failure until the next frame relayed, retries included.
        offline()
        // Healthy: it relayed for at least the wait it would now cost. One good part and then garbage is not.
        if (relayedAt - connectedAt >= backoff(failures)) failures = 0
        const delay = backoff(failures++) * (0.5 + Math.random() / 2)
        const retryInMs = Math.round(delay)
        log.warn({ err, url: where, retryInMs }, 'server push relay: upstream failed')
        if (events.relayLose.hasSubscribers) events.relayLose.publish({ ...about, url: where, error: err, retryInMs })
        response?.destroy()
        await waitFor(signal, sleep(delay))
      } finally {
        clearTimeout(partTimer)
        response?.destroy()
      }
    }
  }, { ...live, maxFps, offlineAfterMs })
}
