// The Fastify plugin: push routes are Fastify routes. A route with the `serverPush` (or `serverPushSnapshot`, or
// `serverPushIngest`) option is made a push (snapshot, ingest) route by the onRoute hook, so schema, hooks, constraints and prefixes work as on any
// route; the `routes` option declares such routes from config. The plugin's settings are every route's defaults.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteHandlerMethod, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { isThenable } from '../core/async.js'
import { invalidOption } from '../core/check.js'
import { guardStreamConnections } from '../core/connection.js'
import { checkIngestOptions, INGEST_KEYS, INGEST_METHODS, IngestRoute, type IngestOptions } from '../core/ingest-route.js'
import type { RouteStats } from '../core/counters.js'
import { waitForProducers } from '../core/producer-stop.js'
import { PushRoute } from '../core/push-route.js'
import { pushViewResponse } from '../core/push-view.js'
import { resolveSettings } from '../core/settings.js'
import { checkSnapshotOptions, SnapshotRoute } from '../core/snapshot-route.js'
import { fastifyExchange, sendPlain } from './exchange.js'
import { checkOptions, checkRouteOption, SNAPSHOT_OPTION_KEYS, type ServerPushOptions, type ServerPushRouteOption, type ServerPushSnapshotOption } from './options.js'

/** `app.serverPush`: what the plugin adds to the Fastify instance. */
export interface ServerPushDecorator {
  /** Counters of every push route, by the URL it is served at. */
  stats (): Record<string, RouteStats>
}

declare module 'fastify' {
  interface FastifyInstance {
    serverPush: ServerPushDecorator
  }
  interface RouteShorthandOptions {
    /**
     * Makes the route a push route (GET, and HEAD): it answers a multipart/x-mixed-replace stream of `source`'s
     * frames. The route's handler runs first, like a last preHandler: it may answer (or throw) to refuse the
     * stream; when it returns without answering, the stream starts.
     */
    serverPush?: ServerPushRouteOption
    /** Makes the route answer the latest frame of a live source as one plain response (an IP camera's /video.jpg). */
    serverPushSnapshot?: ServerPushSnapshotOption
    /**
     * Makes the route (POST, PUT) an ingest route: a publisher's multipart or JPEG body becomes the frames of a
     * live source. The route's handler is not called: the ingest answers in an onRequest hook of the route, after
     * the route's own onRequest hooks, before Fastify would parse the body; nor are its preParsing, preValidation
     * and preHandler hooks (guard it with onRequest hooks).
     */
    serverPushIngest?: IngestOptions
  }
}

/** The counters of every push route of one Fastify instance, whatever the number of registrations. */
class Registry implements ServerPushDecorator {
  private readonly routes = new Map<string, PushRoute<FastifyRequest>>()
  /** The URLs the <push-view> script is served at: a second registration of the plugin adds its own only. */
  readonly viewScripts = new Set<string>()

  /** Keys a route by its URL; a second route on the same URL (other constraints) is told apart by them. */
  add (url: string, constraints: unknown, route: PushRoute<FastifyRequest>): void {
    this.routes.set(this.routes.has(url) ? `${url} ${JSON.stringify(constraints)}` : url, route)
  }

  stats (): Record<string, RouteStats> {
    return Object.fromEntries([...this.routes].map(([url, route]) => [url, route.counters.read()]))
  }
}

/** The registration whose settings a context's routes take: the nearest one, as child contexts inherit. */
const REGISTRATION = Symbol('fastify-server-push registration')
type Registered = FastifyInstance & { [REGISTRATION]?: symbol }

/** One route per option object and URL: Fastify's HEAD twin of a GET shares it (`/p/` for `/p` under a prefix). */
function routeKey (url: string): string {
  return url.replace(/(.)\/$/, '$1')
}

/** The route made for `option` at `url`, made by `make` the first time. */
function once<R> (made: Map<object, Map<string, R>>, option: object, url: string, make: () => R): R {
  let byUrl = made.get(option)
  if (byUrl === undefined) made.set(option, byUrl = new Map())
  let route = byUrl.get(routeKey(url))
  if (route === undefined) byUrl.set(routeKey(url), route = make())
  return route
}

/**
 * A push or snapshot route's handler: the route's own handler first, like a last preHandler, then `serve` unless
 * it answered: called send, returned something (a payload, or the reply it answers later), or threw. Its call to
 * send is the one sign of an answer Fastify gives at once: `reply.sent` stays false while async onSend hooks run
 * (a compression, say), and a stream started then would go out in place of the handler's refusal.
 */
function handlerFirst (handler: RouteHandlerMethod, serve: (request: FastifyRequest, reply: FastifyReply) => Promise<void> | undefined): RouteHandlerMethod {
  return function serverPushHandler (this: FastifyInstance, request, reply) {
    let sent = false
    const send = reply.send
    reply.send = function (payload) {
      sent = true
      return send.call(this, payload)
    }
    // What Fastify is given back: a payload to send, or the reply, which settles once its answer is out.
    const proceed = (value: unknown): unknown => {
      if (sent) return reply
      if (value !== undefined) return value
      return serve(request, reply)?.then(() => reply) ?? reply
    }
    const value: unknown = handler.call(this, request, reply)
    // A handler that returns at once starts the stream at once, while Node is still parsing what it read: a
    // request pipelined behind it then finds the connection taken (connection.ts).
    return isThenable(value) ? Promise.resolve(value).then(proceed) : proceed(value)
  }
}

const PUSH_METHODS = new Set(['GET', 'HEAD'])
const INGEST_OPTION_KEYS: ReadonlySet<string> = new Set(INGEST_KEYS)

async function serverPushPlugin (fastify: FastifyInstance, options: ServerPushOptions): Promise<void> {
  const { defaults, statusPath, routes, producerStopTimeoutMs, viewScript } = checkOptions(options)
  if (!fastify.hasDecorator('serverPush')) fastify.decorate('serverPush', new Registry())
  const registry = fastify.serverPush as Registry
  guardStreamConnections(fastify.server)
  const me = Symbol('fastify-server-push registration')
  ;(fastify as Registered)[REGISTRATION] = me
  const pushRoutes = new Map<object, Map<string, PushRoute<FastifyRequest>>>()
  const snapshots = new Map<object, Map<string, SnapshotRoute>>()
  const ingests = new Map<object, Map<string, IngestRoute>>()

  fastify.addHook('onRoute', function (this: Registered, routeOptions: RouteOptions) {
    const { serverPush: push, serverPushSnapshot: snapshot, serverPushIngest: ingest, url, handler, method } = routeOptions
    if ((push === undefined && snapshot === undefined && ingest === undefined) || this[REGISTRATION] !== me) return
    const where = `${String(method)} ${url}`
    if (ingest !== undefined) {
      if (push !== undefined || snapshot !== undefined) throw invalidOption(where, 'serverPushIngest cannot be set with serverPush or serverPushSnapshot on one route')
      if (![method].flat().every((name) => INGEST_METHODS.includes(name))) throw invalidOption(where, 'an ingest route answers POST and PUT only')
      const settings = checkIngestOptions(where, ingest, INGEST_OPTION_KEYS)
      const route = once(ingests, ingest, url, () => new IngestRoute(settings, fastify.log, url))
      // Before the body is parsed: no content-type parser of the app's reads a publisher's endless body.
      const receive: onRequestHookHandler = async (request, reply) => {
        sendPlain(reply, await route.receive(request.raw))
        return reply
      }
      routeOptions.onRequest = [routeOptions.onRequest ?? []].flat().concat(receive)
      return
    }
    if (push !== undefined && snapshot !== undefined) throw invalidOption(where, 'serverPush and serverPushSnapshot cannot both be set on one route')
    if (![method].flat().every((name) => PUSH_METHODS.has(name))) throw invalidOption(where, 'a push or snapshot route answers GET and HEAD only')
    if (push !== undefined) {
      const own = checkRouteOption(where, push)
      const route = once(pushRoutes, push, url, () => {
        const made = new PushRoute(url, push.source, resolveSettings(own, defaults), fastify.log)
        registry.add(url, routeOptions.constraints, made)
        return made
      })
      routeOptions.handler = handlerFirst(handler, (request, reply) => route.handle(fastifyExchange(request, reply)))
    } else {
      const settings = checkSnapshotOptions(where, snapshot, SNAPSHOT_OPTION_KEYS, defaults)
      const route = once(snapshots, snapshot as object, url, () => new SnapshotRoute(settings, fastify.log, url))
      routeOptions.handler = handlerFirst(handler, async (request, reply) => { sendPlain(reply, await route.answer(request.raw)) })
    }
  })

  const pass = (): void => {}
  for (const { path, push, snapshot } of routes) {
    fastify.route({ method: ['GET', 'HEAD'], url: path, serverPush: push, handler: pass })
    if (snapshot !== undefined) fastify.get(snapshot.path, { serverPushSnapshot: snapshot.option }, pass)
  }
  if (statusPath !== undefined) fastify.get(statusPath, async () => registry.stats())
  if (viewScript !== undefined && !registry.viewScripts.has(fastify.prefix + viewScript)) {
    registry.viewScripts.add(fastify.prefix + viewScript)
    // A block, not an arrow's value: a handler that returns the reply would have Fastify send it again.
    fastify.get(viewScript, (request, reply) => { sendPlain(reply, pushViewResponse(request.headers['if-none-match'])) })
  }

  const allRoutes = (): Array<PushRoute<FastifyRequest>> => [...pushRoutes.values()].flatMap((byUrl) => [...byUrl.values()])
  // Files are read before the server listens: a missing one fails ready(), not the first viewer.
  fastify.addHook('onReady', async () => {
    await Promise.all(allRoutes().map((route) => route.ready))
  })
  // fastify.close() waits for every open connection: streams never end by themselves, so end them first. Live
  // sources stop feeding this app's routes, so a producer with no other app to feed stops too, and close()
  // waits for it to be stopped (a process exited), up to producerStopTimeoutMs.
  let producersStopped: Promise<unknown> = Promise.resolve()
  fastify.addHook('preClose', (done) => {
    for (const byUrl of snapshots.values()) for (const snapshot of byUrl.values()) snapshot.close()
    for (const byUrl of ingests.values()) for (const ingest of byUrl.values()) ingest.close()
    producersStopped = Promise.all(allRoutes().map((route) => route.close()))
    done()
  })
  fastify.addHook('onClose', () => waitForProducers(producersStopped, producerStopTimeoutMs, fastify.log))
}

/** Makes routes with the `serverPush` option push routes, and registers the push routes of its `routes` option. */
export const serverPush = fp(serverPushPlugin, { fastify: '5.x', name: 'fastify-server-push' })
