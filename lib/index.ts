import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { settle } from './async.js'
import { guardStreamConnections } from './connection.js'
import { LiveChannel } from './live/channel.js'
import { isLiveSource } from './live/source.js'
import { LiveViewer } from './live/viewer.js'
import { resolveOptions, type ResolvedRoute, type ServerPushOptions } from './options.js'
import { PullStream } from './pump.js'
import { pushHandler, type StreamFactory } from './route.js'
import { snapshotHandler } from './snapshot.js'
import { cycle, isFileSource, loadParts } from './sources/files.js'
import { functionFrames } from './sources/function.js'
import { RouteCounters, type RouteStats } from './stats.js'
import { isHtml } from './syntax.js'
import { OpenStreams } from './streams.js'

export type { Frame, FrameBody, FrameObject } from './frame.js'
export type { HeaderRecord } from './headers.js'
export type { LiveFromOptions, ProducerContext, ProducerFactory } from './live/produced.js'
export type { LiveSourceOptions } from './live/source.js'
export type { FramingChoice, PushRouteOptions, PushSettings, ServerPushOptions, Source } from './options.js'
export type { RouteStats } from './stats.js'
export type { EndReason } from './stream.js'
export type { FramingName } from './wire.js'
export type { FrameIterable, SourceContext, SourceFunction } from './sources/function.js'
export { liveFrom } from './live/produced.js'
export { createLiveSource, type LiveSource } from './live/source.js'
export { fromCommand, type CommandOptions } from './sources/command.js'
export { RELAYED_TYPES, relay, type RelayOptions } from './sources/relay.js'
export { fromDirectory, fromFiles, FileSource, type DirectoryOptions } from './sources/files.js'
export { boundaryOf, MultipartParser, readMultipart, type MultipartReaderOptions, type ReadPart } from './read/multipart.js'
export { JpegSplitter, splitJpegs, type JpegSplitterOptions } from './read/jpeg.js'
export * from './errors.js'

/** `app.serverPush`: what the plugin adds to the Fastify instance. */
export interface ServerPushDecorator {
  /** Counters of every push route, by path. */
  stats (): Record<string, RouteStats>
}

declare module 'fastify' {
  interface FastifyInstance {
    serverPush: ServerPushDecorator
  }
}

// Longer than fromCommand()'s default kill timeout, so that a stubborn process is killed before close() resolves.
const PRODUCER_STOP_MS = 5000

/** The counters of every route of every registration in one Fastify instance. */
class Registry implements ServerPushDecorator {
  readonly routes = new Map<string, RouteCounters>()

  stats (): Record<string, RouteStats> {
    return Object.fromEntries([...this.routes].map(([path, counters]) => [path, counters.read()]))
  }
}

/** How a route's streams are made; `html` when its parts are pages (files count by their own types). */
async function streamFactory (fastify: FastifyInstance, resolved: ResolvedRoute, counters: RouteCounters, channels: LiveChannel[]): Promise<{ create: StreamFactory, html: boolean }> {
  const route = { ...resolved, counters }
  const { source } = route
  if (isLiveSource(source)) {
    source.log = fastify.log
    const channel = new LiveChannel(route, source)
    channels.push(channel)
    return { create: (context) => new LiveViewer({ ...context, route }, channel), html: route.html }
  }
  if (isFileSource(source)) {
    const parts = await loadParts(source, route.path, route.contentType, route.multipart)
    return {
      create: (context) => new PullStream({ ...context, route }, () => cycle(parts)),
      html: parts.every((part) => isHtml(part.announce.type))
    }
  }
  return {
    create: (context, request) => new PullStream({ ...context, route }, (signal) => functionFrames(source, { request, signal })),
    html: route.html
  }
}

async function serverPushPlugin (fastify: FastifyInstance, options: ServerPushOptions): Promise<void> {
  const { routes, statusPath } = resolveOptions(options)
  if (!fastify.hasDecorator('serverPush')) fastify.decorate('serverPush', new Registry())
  const registry = fastify.serverPush as Registry
  guardStreamConnections(fastify.server)
  // Streams are watched twice per shortest stall timeout and four times per shortest idle repeat, at least every
  // second and at most every 25 ms.
  const periods = routes.flatMap((route) => [route.stallTimeoutMs / 2, route.idleRepeatMs / 4]).filter((ms) => ms > 0)
  const streams = new OpenStreams(periods.length === 0 ? 0 : Math.max(25, Math.min(1000, ...periods)))
  const channels: LiveChannel[] = []
  for (const route of routes) {
    const { source } = route
    const counters = new RouteCounters(isLiveSource(source) ? source : undefined)
    registry.routes.set(route.path, counters)
    const { create, html } = await streamFactory(fastify, route, counters, channels)
    fastify.route({ method: ['GET', 'HEAD'], url: route.path, handler: pushHandler({ ...route, html }, counters, streams, create) })
    const { snapshot } = route
    if (snapshot !== undefined && isLiveSource(source)) {
      fastify.get(snapshot.path, snapshotHandler(route, source, snapshot.timeoutMs, streams))
    }
  }
  if (statusPath !== undefined) fastify.get(statusPath, async () => registry.stats())
  // fastify.close() waits for every open connection: streams never end by themselves, so end them first. Live
  // sources stop feeding this app's routes, so a producer with no other app to feed stops too, and close()
  // waits for it to be stopped (a process exited), up to PRODUCER_STOP_MS.
  let producersStopped: Promise<unknown> = Promise.resolve()
  fastify.addHook('preClose', (done) => {
    streams.close()
    producersStopped = Promise.all(channels.map((channel) => channel.detach()))
    done()
  })
  fastify.addHook('onClose', async () => {
    const giveUp = new AbortController()
    const timer = setTimeout(() => giveUp.abort(), PRODUCER_STOP_MS)
    if (await settle(producersStopped, giveUp.signal) === undefined) {
      fastify.log.warn({ waitedMs: PRODUCER_STOP_MS }, 'server push producers still stopping; closed without them')
    }
    clearTimeout(timer)
  })
}

/** Registers push routes: each answers GET with a multipart/x-mixed-replace stream of its source's frames. */
export const serverPush = fp(serverPushPlugin, { fastify: '5.x', name: 'fastify-server-push' })
export default serverPush
