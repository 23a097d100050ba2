// The command's server: a Fastify app with the plugin, each camera's paths, the index page, /state and /metrics,
// and who may open them. The command is the plugin's own user: nothing here reaches past its options.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { basicCredentials, basicMatches } from '../core/basic-auth.js'
import { FST_SERVER_PUSH_UNAUTHORIZED } from '../core/errors.js'
import { PUSH_VIEW_PATH } from '../core/push-view.js'
import { signUrl } from '../core/signed-url.js'
import { serverPush } from '../fastify/plugin.js'
import { openCamera, type Camera } from './cameras.js'
import type { CommandConfig } from './config.js'
import { indexPage, type CameraLinks } from './index-page.js'
import { actionUrl, cameraPaths } from './paths.js'

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

const REALM = 'Basic realm="fastify-server-push", charset="UTF-8"'

/** The ustreamer-like state of one camera, from its stream route's counters. */
function stateOf (app: FastifyInstance, camera: Camera, streamPath: string): unknown {
  const stats = app.serverPush.stats()[streamPath]
  return {
    source: { name: camera.config.name, kind: camera.config.source.kind, online: stats !== undefined && !stats.offline, desired_fps: camera.config.maxFps ?? 0 },
    stream: { clients: stats?.viewers ?? 0 },
    stats
  }
}

async function metricsRoute (app: FastifyInstance): Promise<() => void> {
  let promClient: typeof import('prom-client')
  let metrics: typeof import('../metrics.js')
  try {
    promClient = await import('prom-client')
    metrics = await import('../metrics.js')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
    const { FST_SERVER_PUSH_COMMAND_USAGE } = await import('../core/errors.js')
    throw new FST_SERVER_PUSH_COMMAND_USAGE('--metrics needs the package prom-client: npx -p fastify-server-push -p prom-client fastify-server-push …, or npm i prom-client')
  }
  const registry = new promClient.Registry()
  promClient.collectDefaultMetrics({ register: registry })
  const registered = metrics.registerMetrics({ registry })
  app.get('/metrics', async (_, reply) => reply.type(registry.contentType).send(await registry.metrics()))
  return () => registered.close()
}

/** Builds the server for `config`; throws FST_SERVER_PUSH_COMMAND_USAGE for what only building finds wrong. */
export async function buildApp (config: CommandConfig): Promise<CommandApp> {
  const { tls, user, signingKey, chunked } = config
  const options = {
    logger: { level: config.logLevel },
    // Viewers stay for hours, publishers send for as long: no timeout of the whole request.
    requestTimeout: 0,
    rewriteUrl: (request: { url?: string }) => actionUrl(request.url ?? '/')
  }
  // HTTP/2 where TLS lets browsers ask for it, with HTTP/1.1 on the same port for every other client.
  const app: FastifyInstance = tls === undefined
    ? Fastify(options)
    : Fastify({ ...options, http2: true, https: { allowHTTP1: true, cert: tls.cert, key: tls.key } }) as unknown as FastifyInstance
  const cameras: Camera[] = []
  let closeMetrics = (): void => {}
  try {
    if (user !== undefined) {
      const expected = basicCredentials(user.username, user.password)
      app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if ((request.routeOptions.config as RouteConfig).ownProof === true) return
        if (!basicMatches(request.headers.authorization, expected)) {
          reply.header('WWW-Authenticate', REALM)
          throw new FST_SERVER_PUSH_UNAUTHORIZED()
        }
      })
    }
    const signed = signingKey !== undefined
    await app.register(serverPush, { chunked, ...(signed ? { signingKeys: signingKey } : {}) })
    const pass = async (): Promise<void> => {}
    const links: CameraLinks[] = []
    const count = config.cameras.length
    const sign = (path: string): string => signingKey === undefined ? path : signUrl(path, { key: signingKey, expiresIn: SIGNED_FOR_S })
    for (const cameraConfig of config.cameras) {
      const camera = await openCamera(cameraConfig, user, app.log)
      cameras.push(camera)
      const { source, ingest } = camera
      const paths = cameraPaths(cameraConfig.name, count)
      const { maxClients } = cameraConfig
      const routeConfig: RouteConfig = { ownProof: signed }
      app.get(paths.stream, { config: routeConfig, serverPush: { source, ...(maxClients === undefined ? {} : { maxClients }) } }, pass)
      app.get(paths.snapshot, { config: routeConfig, serverPushSnapshot: { source } }, pass)
      if (ingest !== undefined) {
        app.route({ method: ['POST', 'PUT'], url: paths.stream, config: { ownProof: true }, serverPushIngest: { source, auth: ingest }, handler: pass })
      }
      app.get(paths.state, async () => ({ ok: true, result: stateOf(app, camera, paths.stream) }))
      links.push({
        name: cameraConfig.name,
        stream: paths.stream,
        snapshot: paths.snapshot,
        state: paths.state,
        actionStream: `${paths.base}/?action=stream`,
        actionSnapshot: `${paths.base}/?action=snapshot`,
        refresh: signed ? `/signed-url?path=${encodeURIComponent(paths.stream)}` : undefined
      })
    }
    if (count > 1) {
      app.get('/state', async () => ({
        ok: true,
        result: { cameras: Object.fromEntries(cameras.map((camera) => [camera.config.name, stateOf(app, camera, cameraPaths(camera.config.name, count).stream)])) }
      }))
    }
    // Signed URLs are handed out only to whom the password lets in: without one, pages of another app sign them.
    if (!signed || user !== undefined) {
      const page = indexPage(links, PUSH_VIEW_PATH)
      // A signed page is signed anew for each request: its URLs expire.
      const pageNow = signed ? () => indexPage(links.map((camera) => signedLinks(camera, sign)), PUSH_VIEW_PATH) : () => page
      app.get('/', async (_, reply) => await reply.type('text/html; charset=utf-8').send(pageNow()))
    }
    if (signed && user !== undefined) {
      const signable = new Set(links.flatMap(({ name }) => { const paths = cameraPaths(name, count); return [paths.stream, paths.snapshot] }))
      app.get<{ Querystring: { path?: string } }>('/signed-url', async (request, reply) => {
        const { path } = request.query
        if (path === undefined || !signable.has(path)) return await reply.code(404).send({ message: 'not a stream or snapshot path of this server' })
        return await reply.type('text/plain; charset=utf-8').send(sign(path))
      })
    }
    if (config.metrics) closeMetrics = await metricsRoute(app)
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

/** A camera's links to open, signed. */
function signedLinks (camera: CameraLinks, sign: (path: string) => string): CameraLinks {
  const { stream, snapshot, actionStream, actionSnapshot } = camera
  return { ...camera, stream: sign(stream), snapshot: sign(snapshot), actionStream: sign(actionStream), actionSnapshot: sign(actionSnapshot) }
}
