// `fastify-server-push/node`: push and snapshot routes for Express 5, node:http, node:https and node:http2 servers,
// with the same sources and readers as the Fastify plugin.
import type { Source as AnySource } from './core/feed.js'
import type { SourceContext as AnySourceContext, SourceFunction as AnySourceFunction } from './core/sources/function.js'
import type { NodeRequest } from './node/handler.js'

/** Where a route's frames come from; a source function gets Node's request (Express's, under Express). */
export type Source = AnySource<NodeRequest>
/** What a source function gets, once per connection: Node's request, and a signal. */
export type SourceContext = AnySourceContext<NodeRequest>
/** A source written as a function, given Node's request. */
export type SourceFunction = AnySourceFunction<NodeRequest>

export * from './core/api.js'
export { createIngestHandler, createPushHandler, createSnapshotHandler, createViewScriptHandler, type HandlerOptions, type IngestHandlerOptions, type Next, type NodeRequest, type NodeResponse, type PushHandler, type PushHandlerOptions, type RouteHandler, type SnapshotHandlerOptions } from './node/handler.js'
