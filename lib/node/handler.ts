// Push and snapshot routes for any node:http server: a `(req, res, next?)` handler that is an Express 5 route
// handler as it is, and a request listener's branch in `http.createServer`.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { settlesWithin } from '../core/async.js'
import { checkKeys, checkNumber, invalidOption, isObject } from '../core/check.js'
import { guardStreamConnections } from '../core/connection.js'
import type { RouteStats } from '../core/counters.js'
import type { HeaderRecord } from '../core/headers.js'
import { A_LIVE_SOURCE, isLiveSource, type LiveSource } from '../core/live/source.js'
import { CONSOLE_LOG, type Logger } from '../core/logger.js'
import type { PlainResponse } from '../core/plain-response.js'
import { checkPushOptions, PushRoute, type PushOptions } from '../core/push-route.js'
import { checkSettings, resolveSettings, SETTING_KEYS } from '../core/settings.js'
import { SnapshotRoute } from '../core/snapshot-route.js'

/** Express's `next`: hands an error to the error handlers that follow. */
export type Next = (error?: unknown) => void

/** What both handlers take besides their route's settings. */
export interface HandlerOptions {
  /** Where the route logs (pino, or any object with debug/info/warn/error). Default: warnings and errors to the console. */
  log?: Logger
}

/**
 * `createPushHandler()`'s options: a push route's source and settings. `Request` is what a source function
 * gets: Node's request, or your framework's (`express.Request`).
 */
export interface PushHandlerOptions<Request extends IncomingMessage = IncomingMessage> extends PushOptions<Request>, HandlerOptions {
  /** The route's name in log lines (`route`) and in `stats()`. Default `server-push`. */
  name?: string
  /** How long `close()` waits for a live producer to stop (a process to exit), in ms. Default 5000. */
  producerStopTimeoutMs?: number
}

/** `createSnapshotHandler()`'s options. */
export interface SnapshotHandlerOptions extends HandlerOptions {
  /** The live source whose latest frame the route answers. */
  source: LiveSource
  /** How long a request waits for a first frame before it is answered 503, in ms. Default 5000. */
  snapshotTimeoutMs?: number
  /** Content-Type of a frame that carries none. Default `image/jpeg`. */
  contentType?: string
  /** Whether a JPEG frame without Huffman tables gets the standard ones (see PushSettings). Default true. */
  jpegHuffmanTables?: boolean
  /** Extra response headers. */
  headers?: HeaderRecord
}

/** A request handler for Express 5 or node:http, with its route's lifecycle. */
export interface RouteHandler<Request extends IncomingMessage = IncomingMessage> {
  (req: Request, res: ServerResponse, next?: Next): void
  /** Ends the route's streams well-formed (and wakes waiting snapshot requests); call it before server.close(). */
  close (): Promise<void>
}

/** `createPushHandler()`'s handler. */
export interface PushHandler<Request extends IncomingMessage = IncomingMessage> extends RouteHandler<Request> {
  /** Settles once the source is ready (files read); rejects with FST_SERVER_PUSH_INVALID_SOURCE. */
  readonly ready: Promise<void>
  /** The route's counters. */
  stats (): RouteStats
}

const PUSH_KEYS = new Set([...SETTING_KEYS, 'log', 'name', 'source', 'producerStopTimeoutMs'])
const SNAPSHOT_KEYS = new Set(['log', 'source', 'snapshotTimeoutMs', 'contentType', 'jpegHuffmanTables', 'headers'])

function sendPlain (res: ServerResponse, response: PlainResponse): void {
  const headers: Record<string, string[]> = {}
  for (const [name, value] of response.headers) (headers[name] ??= []).push(value)
  res.writeHead(response.status, { ...headers, 'Content-Type': response.type, 'Content-Length': Buffer.byteLength(response.body) })
  res.end(response.body)
}

/**
 * What a request that failed gets: Express's error handlers when there is a `next`, else a JSON answer (500
 * for an error that carries no status). Never throws: it runs where nothing would catch it.
 */
function failed (res: ServerResponse, next: Next | undefined, log: Logger, error: unknown): void {
  if (next !== undefined) return next(error)
  const { statusCode, code, message } = error as { statusCode?: unknown, code?: string, message?: string }
  // Every error a route raises is a coded one with its status; the fallback keeps a future one from throwing here.
  /* c8 ignore next */
  const status = typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : 500
  if (status >= 500) log.error({ err: error }, 'server push request failed')
  sendPlain(res, { status, headers: [], type: 'application/json; charset=utf-8', body: JSON.stringify({ statusCode: status, code, error: STATUS_CODES[status], message }) })
}

/** The request's `?framing=` values: one as it is, several as an array (which the route refuses). */
function framingAsked (req: IncomingMessage): unknown {
  // The query alone: the rest of a request target need not parse as a URL (`//[`).
  const url = req.url as string
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  const values = new URLSearchParams(query).getAll('framing')
  return values.length > 1 ? values : values[0]
}

/** Checks what both handlers take: an object, with a logger if any. */
function checkHandlerOptions (where: string, options: unknown): Record<string, unknown> {
  if (!isObject(options)) throw invalidOption(where, 'options must be an object with a source')
  if (options.log !== undefined && !isObject(options.log)) throw invalidOption(where, 'log must be a logger, such as pino')
  if (options.name !== undefined && typeof options.name !== 'string') throw invalidOption(where, 'name must be a string')
  return options
}

/**
 * A push route as a request handler: `app.get('/cam.mjpg', handler)` in Express 5, or called from a node:http
 * request listener. Each request gets a multipart/x-mixed-replace stream of the source's frames. Middleware in
 * front of it (auth, CORS) runs first, and headers it set are sent with the stream. Throws
 * FST_SERVER_PUSH_INVALID_OPTION.
 */
export function createPushHandler<Request extends IncomingMessage = IncomingMessage> (options: PushHandlerOptions<Request>): PushHandler<Request> {
  const where = 'createPushHandler()'
  const checked = checkHandlerOptions(where, options)
  const settings = resolveSettings(checkPushOptions(where, checked, PUSH_KEYS), {})
  const producerStopTimeoutMs = checkNumber(where, 'producerStopTimeoutMs', checked.producerStopTimeoutMs, 0) ?? 5000
  const log = options.log ?? CONSOLE_LOG
  const route = new PushRoute<Request>(options.name ?? 'server-push', options.source, settings, log)
  const handler = (req: Request, res: ServerResponse, next?: Next): void => {
    // The server's requests are watched from now on, so that a stream's connection carries nothing else.
    guardStreamConnections((req.socket as { server?: Server }).server)
    try {
      route.handle({
        req,
        res,
        request: req,
        log,
        framing: framingAsked(req),
        presetHeaders: () => res.getHeaders(),
        answer: (response) => sendPlain(res, response),
        takeOver: () => {}
      })?.catch((error: unknown) => failed(res, next, log, error))
    } catch (error) {
      failed(res, next, log, error)
    }
  }
  return Object.assign(handler, {
    ready: route.ready,
    stats: () => route.counters.read(),
    async close () {
      if (!await settlesWithin(route.close(), producerStopTimeoutMs)) {
        log.warn({ waitedMs: producerStopTimeoutMs }, 'server push producers still stopping; closed without them')
      }
    }
  })
}

/**
 * A snapshot route as a request handler: answers a live source's latest frame as one plain response (an IP
 * camera's /video.jpg), waiting up to `snapshotTimeoutMs` for a first one. Throws FST_SERVER_PUSH_INVALID_OPTION.
 */
export function createSnapshotHandler (options: SnapshotHandlerOptions): RouteHandler {
  const where = 'createSnapshotHandler()'
  const checked = checkHandlerOptions(where, options)
  checkKeys(where, checked, SNAPSHOT_KEYS)
  if (!isLiveSource(checked.source)) throw invalidOption(where, `source must be ${A_LIVE_SOURCE}`)
  const settings = resolveSettings(checkSettings(where, { contentType: checked.contentType, jpegHuffmanTables: checked.jpegHuffmanTables, headers: checked.headers }), {})
  const log = options.log ?? CONSOLE_LOG
  const route = new SnapshotRoute(options.source, settings, where, options.snapshotTimeoutMs, log)
  const handler = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    route.answer(req).then((response) => sendPlain(res, response),
      // answer() does not reject (it answers a frame, a timeout and the close alike); were it to, the client
      // still gets an answer.
      /* c8 ignore next */
      (error: unknown) => failed(res, next, log, error))
  }
  return Object.assign(handler, {
    async close () {
      route.close()
    }
  })
}
