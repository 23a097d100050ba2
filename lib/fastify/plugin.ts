// The Fastify plugin: push routes are Fastify routes. A route with the `serverPush` (or `serverPushSnapshot`)
// option is made a push route by the onRoute hook, so schema, hooks, constraints and prefixes work as on any
// route; the `routes` option declares such routes from config. The plugin's settings are every route's defaults.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { isThenable, settlesWithin } from '../core/async.js'
import { invalidOption, isObject } from '../core/check.js'
import { guardStreamConnections } from '../core/connection.js'
import type { RouteStats } from '../core/counters.js'
import { PushRoute } from '../core/push-route.js'
import { resolveSettings, type CheckedSettings } from '../core/settings.js'
import { SnapshotRoute } from '../core/snapshot-route.js'
import { fastifyExchange, sendPlain } from './exchange.js'
import { checkOptions, checkRouteOption, checkSnapshotOption, type ServerPushOptions, type ServerPushRouteOption, type ServerPushSnapshotOption } from './options.js'

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
  }
}

/** The counters of every push route of one Fastify instance, whatever the number of registrations. */
class Registry implements ServerPushDecorator {
  private readonly routes = new Map<string, PushRoute<FastifyRequest>>()

  /** Keys a route by its URL; a second route on the same URL (other constraints) is told apart by them. */
  add (url: string, constraints: unknown, route: PushRoute<FastifyRequest>): void {
    this.routes.set(this.routes.has(url) ? `${url} ${JSON.stringify(constraints)}` : url, route)
  }

  stats (): Record<string, RouteStats> {
    return Object.fromEntries([...this.routes].map(([url, route]) => [url, route.counters.read()]))
  }
}

/** Which registration made each route option a route, so that a second registration leaves it alone. */
const owners = new WeakMap<object, symbol>()

/** Runs the user's handler, then, unless it answered, hands the request to `serve`. */
function runFirst (handler: RouteHandlerMethod, serve: (request: FastifyRequest, reply: FastifyReply) => unknown): RouteHandlerMethod {
  return function serverPushHandler (this: FastifyInstance, request, reply) {
    const proceed = (value: unknown): unknown => {
      if (reply.sent) return undefined
      if (value !== undefined) return reply.send(value)
      return serve(request, reply)
    }
    const first: unknown = handler.call(this, request, reply)
    return isThenable(first) ? Promise.resolve(first).then(proceed) : proceed(first)
  } as RouteHandlerMethod
}

async function serverPushPlugin (fastify: FastifyInstance, options: ServerPushOptions): Promise<void> {
  const { defaults, statusPath, routes, producerStopTimeoutMs } = checkOptions(options)
  if (!fastify.hasDecorator('serverPush')) fastify.decorate('serverPush', new Registry())
  const registry = fastify.serverPush as Registry
  guardStreamConnections(fastify.server)
  const me = Symbol('fastify-server-push registration')
  const pushRoutes = new Map<object, Map<string, PushRoute<FastifyRequest>>>()
  const snapshots: SnapshotRoute[] = []

  /** The push route of `option` at `url`: one for GET and its HEAD twin, a new one for another URL. */
  const pushRoute = (option: ServerPushRouteOption, url: string, constraints: unknown, own: CheckedSettings): PushRoute<FastifyRequest> => {
    let byUrl = pushRoutes.get(option)
    if (byUrl === undefined) pushRoutes.set(option, byUrl = new Map())
    let route = byUrl.get(url)
    if (route === undefined) {
      route = new PushRoute(url, option.source, resolveSettings(own, defaults), fastify.log)
      byUrl.set(url, route)
      registry.add(url, constraints, route)
    }
    return route
  }

  fastify.addHook('onRoute', (routeOptions: RouteOptions) => {
    const { serverPush: push, serverPushSnapshot: snapshot, url, handler } = routeOptions
    if (push === undefined && snapshot === undefined) return
    const where = `${String(routeOptions.method)} ${url}`
    if (push !== undefined && snapshot !== undefined) throw invalidOption(where, 'serverPush and serverPushSnapshot cannot both be set on one route')
    const option: unknown = push !== undefined ? push : snapshot
    if (isObject(option)) {
      const owner = owners.get(option)
      if (owner !== undefined && owner !== me) return
      owners.set(option, me)
    }
    if (push !== undefined) {
      const route = pushRoute(push, url, routeOptions.constraints, checkRouteOption(where, push))
      routeOptions.handler = runFirst(handler, (request, reply) => route.handle(fastifyExchange(request, reply)))
    } else {
      const own = checkSnapshotOption(where, snapshot)
      const { source, snapshotTimeoutMs } = snapshot as ServerPushSnapshotOption
      const route = new SnapshotRoute(source, resolveSettings(own, defaults), where, snapshotTimeoutMs, fastify.log)
      snapshots.push(route)
      routeOptions.handler = runFirst(handler, async (_request, reply) => sendPlain(reply, await route.answer()))
    }
  })

  const pass = (): void => {}
  for (const { path, snapshot, snapshotTimeoutMs, ...push } of routes) {
    owners.set(push, me)
    fastify.route({ method: ['GET', 'HEAD'], url: path, serverPush: push, handler: pass })
    if (snapshot !== undefined) {
      const option: ServerPushSnapshotOption = { source: push.source as ServerPushSnapshotOption['source'], snapshotTimeoutMs, contentType: push.contentType, headers: push.headers }
      owners.set(option, me)
      fastify.get(snapshot, { serverPushSnapshot: option }, pass)
    }
  }
  if (statusPath !== undefined) fastify.get(statusPath, async () => registry.stats())

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
    for (const snapshot of snapshots) snapshot.close()
    producersStopped = Promise.all(allRoutes().map((route) => route.close()))
    done()
  })
  fastify.addHook('onClose', async () => {
    if (!await settlesWithin(producersStopped, producerStopTimeoutMs)) {
      fastify.log.warn({ waitedMs: producerStopTimeoutMs }, 'server push producers still stopping; closed without them')
    }
  })
}

/** Makes routes with the `serverPush` option push routes, and registers the push routes of its `routes` option. */
export const serverPush = fp(serverPushPlugin, { fastify: '5.x', name: 'fastify-server-push' })
