// `fastify-server-push/node`: push and snapshot routes for Express 5 and node:http servers, with the same sources
// and readers as the Fastify plugin.
import type { IncomingMessage } from 'node:http'
import type { Source as AnySource } from './core/feed.js'
import type { SourceContext as AnySourceContext, SourceFunction as AnySourceFunction } from './core/sources/function.js'

/** Where a route's frames come from; a source function gets Node's request (Express's, under Express). */
export type Source = AnySource<IncomingMessage>
/** What a source function gets, once per connection: Node's request, and a signal. */
export type SourceContext = AnySourceContext<IncomingMessage>
/** A source written as a function, given Node's request. */
export type SourceFunction = AnySourceFunction<IncomingMessage>

export * from './core/api.js'
export { createPushHandler, createSnapshotHandler, type HandlerOptions, type Next, type PushHandler, type PushHandlerOptions, type RouteHandler, type SnapshotHandlerOptions } from './node/handler.js'
