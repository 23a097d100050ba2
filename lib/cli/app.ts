// The command's server: a Fastify app with the plugin, each camera's paths, the index page, /state and /metrics,
// and who may open them. The command is the plugin's own user: nothing here reaches past its options.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { basicCredentials, basicMatches } from '../core/basic-auth.js'
import type { RouteStats } from '../core/counters.js'
import { FST_SERVER_PUSH_UNAUTHORIZED } from '../core/errors.js'
import { errorResponse } from '../core/plain-response.js'
import { PUSH_VIEW_PATH } from '../core/push-view.js'
import { signUrl } from '../core/signed-url.js'
import { sendPlain } from '../fastify/exchange.js'
import { serverPush } from '../fastify/plugin.js'
import { openCamera, type Camera } from './cameras.js'
import type { CommandConfig } from './config.js'
import { indexPage, type CameraLinks } from './index-page.js'
import { optional } from './optional.js'
import { actionUrl, cameraPaths, type CameraPaths } from './paths.js'

/** The command's server, built and not yet listening. */
export interface CommandApp {
  readonly app: FastifyInstance
  /** Closes the server (every stream ended well-formed, every command stopped), then the cameras' publishers. */
  close (): Promise<void>
}

/** How long a URL the index page signs stays good, in seconds: a view asks a fresh one at each reconnection. */
const SIGNED_FOR_S = 60
/** A request whose route says so needs no Basic credentials: a signed stream or snapshot, or a publisher. */
interface RouteConfig { readonly ownProof?: boolean }

/** The answer to a request without the user's credentials, made once. */
const UNAUTHORIZED = errorResponse(401, new FST_SERVER_PUSH_UNAUTHORIZED().message, 'FST_SERVER_PUSH_UNAUTHORIZED', [
  ['WWW-Authenticate', 'Basic realm="fastify-server-push", charset="UTF-8"']
])

/** The ustreamer-like state of one camera, from its stream route's counters (`stats`, every route's, read once). */
function stateOf (stats: Record<string, RouteStats>, { config }: Camera, paths: CameraPaths): unknown {
  const own = stats[paths.stream]
  return {
    source: { name: config.name, kind: config.source.kind, online: !own.offline, desired_fps: config.maxFps ?? 0 },
    stream: { clients: own.viewers },
    stats: own
  }
}

/** /metrics, on a registry of the command's own; returns what unregisters them. */
async function metricsRoute (app: FastifyInstance): Promise<() => void> {
  const [promClient, metrics] = await optional(async () => await Promise.all([import('prom-client'), import('../metrics.js')]), '--metrics', 'prom-client')
  const registry = new promClient.Registry()
  promClient.collectDefaultMetrics({ register: registry })
  const registered = metrics.registerMetrics({ registry })
  app.get('/metrics', async (_, reply) => await reply.type(registry.contentType).send(await registry.metrics()))
  return () => registered.close()
}

/** Every request needs the user's credentials, but those whose route takes its own proof. */
function requireUser (app: FastifyInstance, { username, password }: { username: string, password: string }): void {
  const expected = basicCredentials(username, password)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if ((request.routeOptions.config as RouteConfig).ownProof === true) return
    // Answered, not thrown: a thrown error is logged with its stack, three lines for each request of a scanner.
    if (!basicMatches(request.headers.authorization, expected)) return sendPlain(reply, UNAUTHORIZED)
  })
}

/** A camera's routes: its stream (and its publisher's POST), snapshot and state; returns the links to them. */
function cameraRoutes (app: FastifyInstance, camera: Camera, paths: CameraPaths, signed: boolean): CameraLinks {
  const { source, ingest, config: { name, maxClients } } = camera
  const pass = async (): Promise<void> => {}
  const config: RouteConfig = { ownProof: signed }
  app.get(paths.stream, { config, serverPush: { source, ...(maxClients === undefined ? {} : { maxClients }) } }, pass)
  app.get(paths.snapshot, { config, serverPushSnapshot: { source } }, pass)
  if (ingest !== undefined) {
    app.route({ method: ['POST', 'PUT'], url: paths.stream, config: { ownProof: true }, serverPushIngest: { source, auth: ingest }, handler: pass })
  }
  app.get(paths.state, async () => ({ ok: true, result: stateOf(app.serverPush.stats(), camera, paths) }))
  return {
    name,
    stream: paths.stream,
    snapshot: paths.snapshot,
    state: paths.state,
    actionStream: `${paths.base}/?action=stream`,
    actionSnapshot: `${paths.base}/?action=snapshot`,
    refresh: signed ? `/signed-url?path=${encodeURIComponent(paths.stream)}` : undefined
  }
}

/** A camera's links to open, signed. */
function signedLinks (camera: CameraLinks, sign: (path: string) => string): CameraLinks {
  const { stream, snapshot, actionStream, actionSnapshot } = camera
  return { ...camera, stream: sign(stream), snapshot: sign(snapshot), actionStream: sign(actionStream), actionSnapshot: sign(actionSnapshot) }
}

/**
 * The index page, and with signed streams, /signed-url, where a view asks a fresh URL: signed URLs are handed out
 * only to whom the password lets in, so with signing and no password there is neither (pages of another app sign).
 */
function indexRoutes (app: FastifyInstance, links: readonly CameraLinks[], signingKey: string | undefined, user: boolean): void {
  const html = 'text/html; charset=utf-8'
  if (signingKey === undefined) {
    const page = indexPage(links, PUSH_VIEW_PATH)
    app.get('/', async (_, reply) => await reply.type(html).send(page))
    return
  }
  if (!user) return
  const sign = (path: string): string => signUrl(path, { key: signingKey, expiresIn: SIGNED_FOR_S })
  // Signed anew for each request: its URLs expire.
  app.get('/', async (_, reply) => await reply.type(html).send(indexPage(links.map((camera) => signedLinks(camera, sign)), PUSH_VIEW_PATH)))
  const signable = new Set(links.flatMap(({ stream, snapshot }) => [stream, snapshot]))
  app.get<{ Querystring: { path?: string } }>('/signed-url', async (request, reply) => {
    const { path } = request.query
    if (path === undefined || !signable.has(path)) return reply.callNotFound()
    return await reply.type('text/plain; charset=utf-8').send(sign(path))
  })
}

/** Builds the server for `config`; throws FST_SERVER_PUSH_COMMAND_USAGE for what only building finds wrong. */
export async function buildApp (config: CommandConfig): Promise<CommandApp> {
  const { tls, user, signingKey, chunked } = config
  const options = {
    logger: { level: config.logLevel },
    // Viewers stay for hours, publishers send for as long: no timeout of the whole request.
    requestTimeout: 0,
    // A server's request always has its URL; the type is that of any IncomingMessage.
    rewriteUrl: (request: { url?: string }) => actionUrl(String(request.url))
  }
  // HTTP/2 where TLS lets browsers ask for it, with HTTP/1.1 on the same port for every other client.
  const app: FastifyInstance = tls === undefined
    ? Fastify(options)
    : Fastify({ ...options, http2: true, https: { allowHTTP1: true, cert: tls.cert, key: tls.key } }) as unknown as FastifyInstance
  const cameras: Camera[] = []
  let closeMetrics = (): void => {}
  try {
    if (user !== undefined) requireUser(app, user)
    // Before the routes: the metrics know a route from its opening.
    if (config.metrics) closeMetrics = await metricsRoute(app)
    await app.register(serverPush, { chunked, ...(signingKey === undefined ? {} : { signingKeys: signingKey }) })
    const links: CameraLinks[] = []
    for (const cameraConfig of config.cameras) {
      const camera = await openCamera(cameraConfig, user, app.log)
      cameras.push(camera)
      links.push(cameraRoutes(app, camera, cameraPaths(cameraConfig.name, config.cameras.length), signingKey !== undefined))
    }
    if (cameras.length > 1) {
      app.get('/state', async () => {
        const stats = app.serverPush.stats()
        return { ok: true, result: { cameras: Object.fromEntries(cameras.map((camera) => [camera.config.name, stateOf(stats, camera, cameraPaths(camera.config.name, cameras.length))])) } }
      })
    }
    indexRoutes(app, links, signingKey, user !== undefined)
    await app.ready()
  } catch (err) {
    await app.close()
    for (const camera of cameras) await camera.close()
    throw err
  }
  return {
    app,
    async close () {
      await app.close()
      closeMetrics()
      for (const camera of cameras) await camera.close()
    }
  }
}
