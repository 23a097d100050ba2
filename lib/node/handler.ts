// Push, snapshot and ingest routes for Node's servers: a `(req, res, next?)` handler that is an Express 5 route handler
// as it is, and a request listener (or its branch) for node:http, node:https and node:http2's compatibility API.
import { STATUS_CODES, type Server } from 'node:http'
import { invalidOption, isObject } from '../core/check.js'
import { guardStreamConnections } from '../core/connection.js'
import { checkIngestOptions, INGEST_KEYS, IngestRoute, type IngestOptions } from '../core/ingest-route.js'
import type { RouteStats } from '../core/counters.js'
import { CONSOLE_LOG, type Logger } from '../core/logger.js'
import type { PlainResponse } from '../core/plain-response.js'
import { pushViewResponse } from '../core/push-view.js'
import { checkProducerStopTimeout, waitForProducers, type ProducerStopOption } from '../core/producer-stop.js'
import { checkPushOptions, PushRoute, type PushOptions } from '../core/push-route.js'
import { resolveSettings, SETTING_KEYS } from '../core/settings.js'
import type { AnyRequest, AnyResponse } from '../core/protocol.js'
import { checkSnapshotOptions, SNAPSHOT_KEYS, SnapshotRoute, type SnapshotOptions } from '../core/snapshot-route.js'

/** A request as Node's servers hand it over: node:http's and node:https's (Express's extends it), or node:http2's. */
export type NodeRequest = AnyRequest

/** The response that comes with it. */
export type NodeResponse = AnyResponse

/** Express's `next`: hands an error to the error handlers that follow. */
export type Next = (error?: unknown) => void

/** What both handlers take besides their route's settings. */
export interface HandlerOptions {
  /** Where the route logs (pino, or any object with debug/info/warn/error). Default: warnings and errors to the console. */
  log?: Logger
  /** The route's name in log lines (`route`), in events and metrics, and in `stats()`. Default `server-push` (a
   * push route), `server-push-snapshot` (a snapshot route). */
  name?: string
}

/**
 * `createPushHandler()`'s options: a push route's source and settings. `Request` is what a source function
 * gets: Node's request (node:http's or node:http2's), or your framework's (`express.Request`).
 */
export interface PushHandlerOptions<Request extends NodeRequest = NodeRequest> extends PushOptions<Request>, HandlerOptions, ProducerStopOption {}

/** `createSnapshotHandler()`'s options. */
export interface SnapshotHandlerOptions extends SnapshotOptions, HandlerOptions {}

/** `createIngestHandler()`'s options. */
export interface IngestHandlerOptions extends IngestOptions, HandlerOptions {}

/**
 * A request handler for Express 5, node:http, node:https or node:http2, with its route's lifecycle. `Request` is
 * the request it is called with.
 */
export interface RouteHandler<Request extends NodeRequest = NodeRequest> {
  (req: Request, res: NodeResponse, next?: Next): void
  /** Ends the route's streams well-formed (and wakes waiting snapshot requests); call it before server.close(). */
  close (): Promise<void>
}

/** `createPushHandler()`'s handler. */
export interface PushHandler<Request extends NodeRequest = NodeRequest> extends RouteHandler<Request> {
  /** Settles once the source is ready (files read); rejects with FST_SERVER_PUSH_INVALID_SOURCE. */
  readonly ready: Promise<void>
  /** The route's counters. */
  stats (): RouteStats
}

const PUSH_KEYS = new Set([...SETTING_KEYS, 'log', 'name', 'source', 'producerStopTimeoutMs'])
const SNAPSHOT_HANDLER_KEYS = new Set([...SNAPSHOT_KEYS, 'log', 'name'])
const INGEST_HANDLER_KEYS = new Set([...INGEST_KEYS, 'log', 'name'])

function sendPlain (res: NodeResponse, response: PlainResponse): void {
  const headers: Record<string, string[]> = {}
  for (const [name, value] of response.headers) (headers[name] ??= []).push(value)
  // A 304 describes the copy the client has: a Content-Length of 0 there would say that copy is empty (RFC 9110 8.6).
  const body = response.status === 304 ? {} : { 'Content-Type': response.type, 'Content-Length': Buffer.byteLength(response.body) }
  res.writeHead(response.status, { ...headers, ...body })
  res.end(response.body)
}

/**
 * What a request that failed gets: Express's error handlers when there is a `next`, else a JSON answer (500
 * for an error that carries no status). Never throws: it runs where nothing would catch it.
 */
function failed (res: NodeResponse, next: Next | undefined, log: Logger, error: unknown): void {
  if (next !== undefined) return next(error)
  const { statusCode, code, message } = error as { statusCode?: unknown, code?: string, message?: string }
  // Every error a route raises is a coded one with its status; the fallback keeps a future one from throwing here.
  /* c8 ignore next */
  const status = typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : 500
  if (status >= 500) log.error({ err: error }, 'server push request failed')
  sendPlain(res, { status, headers: [], type: 'application/json; charset=utf-8', body: JSON.stringify({ statusCode: status, code, error: STATUS_CODES[status], message }) })
}

/** Checks what both handlers take: an object, with a logger if any. */
function checkHandlerOptions (where: string, options: unknown): Record<string, unknown> {
  if (!isObject(options)) throw invalidOption(where, 'options must be an object with a source')
  if (options.log !== undefined && !isObject(options.log)) throw invalidOption(where, 'log must be a logger, such as pino')
  if (options.name !== undefined && typeof options.name !== 'string') throw invalidOption(where, 'name must be a string')
  return options
}

/**
 * A push route as a request handler: `app.get('/cam.mjpg', handler)` in Express 5, or a request listener (or
 * called from one) of node:http, node:https or node:http2. Each request gets a multipart/x-mixed-replace stream of
 * the source's frames. Middleware in front of it (auth, CORS) runs first, and headers it set are sent with the
 * stream. Throws FST_SERVER_PUSH_INVALID_OPTION.
 */
export function createPushHandler<Request extends NodeRequest = NodeRequest> (options: PushHandlerOptions<Request>): PushHandler<Request> {
  const where = 'createPushHandler()'
  const checked = checkHandlerOptions(where, options)
  const settings = resolveSettings(checkPushOptions(where, checked, PUSH_KEYS), {})
  const producerStopTimeoutMs = checkProducerStopTimeout(where, checked)
  const log = options.log ?? CONSOLE_LOG
  const route = new PushRoute<Request>(options.name ?? 'server-push', options.source, settings, log)
  const handler = (req: Request, res: NodeResponse, next?: Next): void => {
    // The server's requests are watched from now on, so that a stream's connection carries nothing else.
    guardStreamConnections((req.socket as { server?: Server }).server)
    try {
      route.handle({
        req,
        res,
        request: req,
        log,
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
    close: () => waitForProducers(route.close(), producerStopTimeoutMs, log)
  })
}

/**
 * A snapshot route as a request handler: answers a live source's latest frame as one plain response (an IP
 * camera's /video.jpg), waiting up to `snapshotTimeoutMs` for a first one. Throws FST_SERVER_PUSH_INVALID_OPTION.
 */
export function createSnapshotHandler (options: SnapshotHandlerOptions): RouteHandler {
  const where = 'createSnapshotHandler()'
  const settings = checkSnapshotOptions(where, checkHandlerOptions(where, options), SNAPSHOT_HANDLER_KEYS)
  const log = options.log ?? CONSOLE_LOG
  const route = new SnapshotRoute(settings, log, options.name ?? 'server-push-snapshot')
  const handler = (req: NodeRequest, res: NodeResponse, next?: Next): void => {
    // answer() rejects a URL not signed as the route requires (403), as a push route throws it.
    route.answer(req).then((response) => sendPlain(res, response), (error: unknown) => failed(res, next, log, error))
  }
  return Object.assign(handler, {
    async close () {
      route.close()
    }
  })
}

/**
 * An ingest route as a request handler (`app.post('/ingest', handler)` in Express 5, or for a node:http request
 * listener's POST): a publisher's multipart/x-mixed-replace or JPEG body becomes the frames of `source`. Mount it
 * before any body parser. Node's servers cut a request that takes longer than `server.requestTimeout` (300 s by
 * default): set it to 0 for publishers that stay. It answers every request itself, Express's `next` never called.
 * Throws FST_SERVER_PUSH_INVALID_OPTION.
 */
export function createIngestHandler (options: IngestHandlerOptions): RouteHandler {
  const where = 'createIngestHandler()'
  const settings = checkIngestOptions(where, checkHandlerOptions(where, options), INGEST_HANDLER_KEYS)
  const log = options.log ?? CONSOLE_LOG
  const route = new IngestRoute(settings, log, options.name ?? 'server-push-ingest')
  const handler = (req: NodeRequest, res: NodeResponse): void => {
    // receive() answers its own failures (an auth function that throws: 500, the connection closed); a bug of
    // ours must still not be an unhandled rejection, which would end the process.
    route.receive(req).then((response) => { sendPlain(res, response) },
      /* c8 ignore next */
      (error: unknown) => { failed(res, undefined, log, error) })
  }
  return Object.assign(handler, {
    async close () {
      route.close()
    }
  })
}

/**
 * A request handler that serves the `<push-view>` script (the self-healing view of a push stream), with an ETag
 * so browsers keep a copy: `app.get('/push-view.js', createViewScriptHandler())` in Express 5, or called from a
 * node:http request listener for that path.
 */
export function createViewScriptHandler (): (req: NodeRequest, res: NodeResponse) => void {
  return (req, res) => { sendPlain(res, pushViewResponse(req.headers['if-none-match'])) }
}
