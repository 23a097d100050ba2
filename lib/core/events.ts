// The package's lifecycle events, published on node:diagnostics_channel under the names below: what `stats()`
// counts, at the moment it happens, for an app to act on (alert on a camera gone offline, log a refused viewer)
// and for the Prometheus metrics (metrics.ts), which are one subscriber of them. Each is published only while
// someone subscribes: the message is built behind the channel's `hasSubscribers`, so an app that does not listen
// pays one property read per event, and nothing per part.
import diagnostics from 'node:diagnostics_channel'
import type { RouteStats } from './counters.js'
import type { LiveSource } from './live/source.js'
import type { AnyRequest } from './protocol.js'
import type { EndReason } from './stream.js'

/** Why a request for a stream (or a snapshot) got a refusal instead. */
export type RefuseReason =
  /** The route had its `maxClients` viewers (503). */
  | 'max-clients'
  /** The HTTP/2 connection carried its `maxStreamsPerConnection` streams (503). */
  | 'max-streams-per-connection'
  /** The server is closing (503). */
  | 'server-closing'
  /** The route requires a signed URL and the request's was missing, expired or wrong (403). */
  | 'signature'

/** `fastify-server-push:route:open`: a push route serves (its source is ready). */
export interface RouteOpenEvent {
  /** The route's URL (its path pattern under Fastify, the handler's `name` under node:http). */
  readonly route: string
  /** The route's counters now, as `stats()` reports them. */
  readonly stats: () => RouteStats
}

/** `fastify-server-push:route:close`: a push route closed (its app closed, or its handler's `close()`). */
export interface RouteCloseEvent {
  readonly route: string
  /** The same function as the route's route:open event carried: tells apart the routes of one URL (node:http
   * handlers given no `name` are all `server-push`). */
  readonly stats: () => RouteStats
}

/** `fastify-server-push:viewer:open`: a stream started. */
export interface ViewerOpenEvent {
  readonly route: string
  /** Process-unique, the same in the stream's close event. */
  readonly id: number
  /** The request, as its server handed it over: node:http's (Fastify's `request.raw`) or node:http2's. */
  readonly request: AnyRequest
  /** The framing the stream is written in. */
  readonly framing: string
  /** 1 for HTTP/1.x, 2 for HTTP/2. */
  readonly protocol: 1 | 2
}

/** `fastify-server-push:viewer:close`: a stream ended. */
export interface ViewerCloseEvent {
  readonly route: string
  readonly id: number
  /** Why: the viewer left, was cut off for stalling, the server closed, `maxStreamMs`, the source ended or failed. */
  readonly reason: EndReason
  readonly parts: number
  readonly bytes: number
  readonly durationMs: number
}

/** `fastify-server-push:viewer:refuse`: a request for a stream or a snapshot was refused. */
export interface ViewerRefuseEvent {
  readonly route: string
  /** As in ViewerOpenEvent. */
  readonly request: AnyRequest
  readonly reason: RefuseReason
  /** The response's status: 503, or 403 for a signature. */
  readonly status: number
}

/** `fastify-server-push:part:send`: a live frame was written to a viewer (not an idle repeat, not an offline part). */
export interface PartSendEvent {
  readonly route: string
  /** How long after the source published the frame it was written to this viewer, in ms. */
  readonly ageMs: number
}

/** What every event of a live source carries. */
export interface SourceEventBase {
  /** The source, as its user holds it. */
  readonly source: LiveSource
  /** The URL of the first route that showed it: how logs and metrics name a source. */
  readonly route: string
}

/** `fastify-server-push:source:start`: a producer (liveFrom(), fromCommand(), relay(), redisSource()) started. */
export type SourceStartEvent = SourceEventBase
/** `fastify-server-push:source:stop`: a producer stopped, for want of viewers or as its source closed. */
export type SourceStopEvent = SourceEventBase

/** `fastify-server-push:source:fail`: a producer failed (threw, or its frames were refused too often in a row). */
export interface SourceFailEvent extends SourceEventBase {
  readonly error: unknown
}

/** `fastify-server-push:source:restart`: a command source's command exited and is started again. */
export interface SourceRestartEvent extends SourceEventBase {
  /** In ms. */
  readonly delayMs: number
}

/** `fastify-server-push:source:offline`: a live source went offline (its viewers get the offline frame). */
export interface SourceOfflineEvent extends SourceEventBase {
  /** Date.now() when it went offline. */
  readonly since: number
}

/** `fastify-server-push:source:online`: a live source's outage is over: it delivered a frame again, or its producer
 * stopped (no viewer left, or it failed or ended), which is no longer being offline, but no recovery either. */
export interface SourceOnlineEvent extends SourceEventBase {
  readonly since: number
  /** How long it was offline, in ms. */
  readonly offlineMs: number
  /** `frame`: it delivered again; `stopped`: its producer stopped. */
  readonly reason: 'frame' | 'stopped'
}

/** `fastify-server-push:relay:connect`: a relay reached its upstream and reads its stream. */
export interface RelayConnectEvent extends SourceEventBase {
  /** The upstream's URL with its password and query hidden. */
  readonly url: string
}

/** `fastify-server-push:relay:lose`: a relay's upstream failed (or never answered); it tries again after `retryInMs`. */
export interface RelayLoseEvent extends RelayConnectEvent {
  readonly error: unknown
  readonly retryInMs: number
}

/** What every Redis event carries. */
export interface RedisEventBase {
  /** The Redis channel's name, as given to redisSource() or publishToRedis(). */
  readonly channel: string
  /** The Redis address, password hidden. */
  readonly redis: string
  /** Who lost Redis: a source (this process's viewers) or a publisher. */
  readonly role: 'source' | 'publisher'
}

/** `fastify-server-push:redis:lose`: an outage began: a source or publisher lost its Redis connection. */
export interface RedisLoseEvent extends RedisEventBase {
  readonly error: unknown
}

/** `fastify-server-push:redis:back`: the outage ended. */
export interface RedisBackEvent extends RedisEventBase {
  /** How long Redis was out of reach, in ms. */
  readonly downMs: number
}

/** `fastify-server-push:redis:miss`: frames published to Redis never reached this process (a gap in their numbering). */
export interface RedisMissEvent extends SourceEventBase {
  readonly channel: string
  readonly count: number
}

/** Every event by its channel's name: `diagnostics_channel.subscribe(name, (message: EventMessages[name]) => …)`. */
export interface EventMessages {
  'fastify-server-push:route:open': RouteOpenEvent
  'fastify-server-push:route:close': RouteCloseEvent
  'fastify-server-push:viewer:open': ViewerOpenEvent
  'fastify-server-push:viewer:close': ViewerCloseEvent
  'fastify-server-push:viewer:refuse': ViewerRefuseEvent
  'fastify-server-push:part:send': PartSendEvent
  'fastify-server-push:source:start': SourceStartEvent
  'fastify-server-push:source:stop': SourceStopEvent
  'fastify-server-push:source:fail': SourceFailEvent
  'fastify-server-push:source:restart': SourceRestartEvent
  'fastify-server-push:source:offline': SourceOfflineEvent
  'fastify-server-push:source:online': SourceOnlineEvent
  'fastify-server-push:relay:connect': RelayConnectEvent
  'fastify-server-push:relay:lose': RelayLoseEvent
  'fastify-server-push:redis:lose': RedisLoseEvent
  'fastify-server-push:redis:back': RedisBackEvent
  'fastify-server-push:redis:miss': RedisMissEvent
}

/** The name of one of the package's channels. */
export type EventName = keyof EventMessages

/** One of the package's channels, typed by its messages. */
export interface EventChannel<Name extends EventName> {
  readonly hasSubscribers: boolean
  publish (message: EventMessages[Name]): void
}

/** A listener of one channel's messages. */
export type EventListener<Name extends EventName> = (message: EventMessages[Name], name: Name) => void

/** The names of the channels made so far, in order. */
const names: EventName[] = []

function channel<Name extends EventName> (name: Name): EventChannel<Name> {
  names.push(name)
  return diagnostics.channel(name)
}

/** Every channel of the package, by a short name. Publish behind `hasSubscribers`. */
export const events = {
  routeOpen: channel('fastify-server-push:route:open'),
  routeClose: channel('fastify-server-push:route:close'),
  viewerOpen: channel('fastify-server-push:viewer:open'),
  viewerClose: channel('fastify-server-push:viewer:close'),
  viewerRefuse: channel('fastify-server-push:viewer:refuse'),
  partSend: channel('fastify-server-push:part:send'),
  sourceStart: channel('fastify-server-push:source:start'),
  sourceStop: channel('fastify-server-push:source:stop'),
  sourceFail: channel('fastify-server-push:source:fail'),
  sourceRestart: channel('fastify-server-push:source:restart'),
  sourceOffline: channel('fastify-server-push:source:offline'),
  sourceOnline: channel('fastify-server-push:source:online'),
  relayConnect: channel('fastify-server-push:relay:connect'),
  relayLose: channel('fastify-server-push:relay:lose'),
  redisLose: channel('fastify-server-push:redis:lose'),
  redisBack: channel('fastify-server-push:redis:back'),
  redisMiss: channel('fastify-server-push:redis:miss')
} as const

/** Every channel's name: to subscribe to them all (a log of everything, say). */
export const EVENT_NAMES: readonly EventName[] = names

/**
 * Calls `listener` with each message of the channel `name` (a name of `EventMessages`), typed; returns the
 * function that unsubscribes it. The same as `diagnostics_channel.subscribe(name, listener)`, which works too.
 */
export function subscribeEvent<Name extends EventName> (name: Name, listener: EventListener<Name>): () => void {
  // diagnostics_channel hands every listener `unknown`: the channel's name says what its messages are.
  const untyped = listener as (message: unknown, name: string | symbol) => void
  diagnostics.subscribe(name, untyped)
  return () => { diagnostics.unsubscribe(name, untyped) }
}
