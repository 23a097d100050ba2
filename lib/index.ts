import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { resolveOptions, type ResolvedRoute, type ServerPushOptions } from './options.js'
import { pushHandler, type Opener, type PushState } from './route.js'
import { cycle, isFileSource, loadParts } from './sources/files.js'
import { functionFrames } from './sources/function.js'

export type { Frame, FrameBody, FrameObject } from './frame.js'
export type { HeaderRecord } from './headers.js'
export type { PushRouteOptions, PushSettings, ServerPushOptions, Source } from './options.js'
export type { EndReason } from './pump.js'
export type { FrameIterable, SourceContext, SourceFunction } from './sources/function.js'
export { fromDirectory, fromFiles, FileSource } from './sources/files.js'
export * from './errors.js'

async function opener (route: ResolvedRoute): Promise<Opener> {
  const { source, path, contentType, framing } = route
  if (!isFileSource(source)) return (request, signal) => functionFrames(source, { request, signal })
  const parts = await loadParts(source, path, contentType, framing)
  return () => cycle(parts)
}

async function serverPushPlugin (fastify: FastifyInstance, options: ServerPushOptions): Promise<void> {
  const routes = resolveOptions(options)
  const state: PushState = { streams: new Set(), closing: false }
  for (const route of routes) {
    fastify.route({ method: ['GET', 'HEAD'], url: route.path, handler: pushHandler(route, await opener(route), state) })
  }
  // fastify.close() waits for every open connection: streams never end by themselves, so end them first.
  fastify.addHook('preClose', (done) => {
    state.closing = true
    for (const stream of state.streams) stream.end('server-closing')
    done()
  })
}

/** Registers push routes: each answers GET with a multipart/x-mixed-replace stream of its source's frames. */
export const serverPush = fp(serverPushPlugin, { fastify: '5.x', name: 'fastify-server-push' })
export default serverPush
