// The package's main entry: the Fastify plugin, the sources and readers, and their types. Express and
// node:http servers use `fastify-server-push/node` instead.
import type { FastifyRequest } from 'fastify'
import type { Source as AnySource } from './core/feed.js'
import type { SourceContext as AnySourceContext, SourceFunction as AnySourceFunction } from './core/sources/function.js'
import { serverPush } from './fastify/plugin.js'

/** Where a route's frames come from (see the core's `Source`); a source function gets Fastify's request. */
export type Source = AnySource<FastifyRequest>
/** What a source function gets, once per connection: Fastify's request, and a signal. */
export type SourceContext = AnySourceContext<FastifyRequest>
/** A source written as a function (see the core's `SourceFunction`), given Fastify's request. */
export type SourceFunction = AnySourceFunction<FastifyRequest>

export * from './core/api.js'
export type { PushRouteOptions, ServerPushOptions, ServerPushRouteOption, ServerPushSnapshotOption } from './fastify/options.js'
export type { ServerPushDecorator } from './fastify/plugin.js'
export { serverPush }
export default serverPush
