import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { FST_SERVER_PUSH_INVALID_SOURCE } from './errors.js'
import { toPart } from './frame.js'
import { resolveOptions, type ResolvedRoute, type ServerPushOptions } from './options.js'
import type { PushStream } from './pump.js'
import { pushHandler, type Opener } from './route.js'
import { cycle, FileSource } from './sources/files.js'
import { functionFrames } from './sources/function.js'

export type { Frame, FrameBody, FrameObject } from './frame.js'
export type { HeaderRecord } from './headers.js'
export type { PushRouteOptions, PushSettings, ServerPushOptions, Source } from './options.js'
export type { EndReason } from './pump.js'
export type { FrameIterable, SourceContext, SourceFunction } from './sources/function.js'
export { fromDirectory, fromFiles, FileSource } from './sources/files.js'
export * from './errors.js'

/** File frames are read and encoded once here, at registration; each client then cycles the same buffers. */
async function opener (route: ResolvedRoute): Promise<Opener> {
  const { source } = route
  if (!(source instanceof FileSource)) return (request, signal) => functionFrames(source, { request, signal })
  let parts
  try {
    parts = (await source.load()).map((frame) => toPart(frame, route.contentType, route.framing))
  } catch (err) {
    throw new FST_SERVER_PUSH_INVALID_SOURCE(`${route.path}: ${source.description}: ${(err as Error).message}`)
  }
  return () => cycle(parts)
}

async function serverPushPlugin (fastify: FastifyInstance, options: ServerPushOptions): Promise<void> {
  const routes = resolveOptions(options)
  const streams = new Set<PushStream>()
  for (const route of routes) {
    fastify.route({ method: ['GET', 'HEAD'], url: route.path, handler: pushHandler(route, await opener(route), streams) })
  }
  // fastify.close() waits for every open connection: streams never end by themselves, so end them first.
  fastify.addHook('preClose', (done) => {
    for (const stream of streams) stream.end('server-closing')
    done()
  })
}

/** Registers push routes: each answers GET with a multipart/x-mixed-replace stream of its source's frames. */
export const serverPush = fp(serverPushPlugin, { fastify: '5.x', name: 'fastify-server-push' })
export default serverPush
