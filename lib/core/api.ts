// What both entry points export alike: sources, readers, errors and their types. Each entry adds its server's
// own (the Fastify plugin; the node:http handlers) and the source types for its kind of request.
export type { RouteStats } from './counters.js'
export type {
  EventListener, EventMessages, EventName, PartSendEvent, RedisBackEvent, RedisEventBase, RedisLoseEvent, RedisMissEvent, RefuseReason,
  RelayConnectEvent, RelayLoseEvent, RouteCloseEvent, RouteOpenEvent, SourceEventBase, SourceFailEvent, SourceOfflineEvent,
  SourceOnlineEvent, SourceRestartEvent, SourceStartEvent, SourceStopEvent, ViewerCloseEvent, ViewerOpenEvent, ViewerRefuseEvent
} from './events.js'
export type { Frame, FrameBody, FrameObject } from './frame.js'
export type { FramingChoice, FramingName } from './framing.js'
export type { HeaderRecord } from './headers.js'
export type { IngestAuth, IngestOptions } from './ingest-route.js'
export type { LiveFromOptions, ProducerContext, ProducerFactory } from './live/producer.js'
export type { LiveSourceOptions } from './live/source.js'
export type { LogCall, Logger } from './logger.js'
export type { PushSettings } from './settings.js'
export type { SigningKey, SignUrlOptions } from './signed-url.js'
export type { EndReason } from './stream.js'
export type { FrameIterable } from './sources/function.js'
export { EVENT_NAMES, subscribeEvent } from './events.js'
export { liveFrom } from './live/producer.js'
export { createLiveSource, type LiveSource } from './live/source.js'
export { fromCommand, type CommandOptions } from './sources/command.js'
export { RELAYED_TYPES, relay, type RelayOptions } from './sources/relay.js'
export { fromDirectory, fromFiles, FileSource, type DirectoryOptions } from './sources/files.js'
export { boundaryOf, MultipartParser, readMultipart, type MultipartReaderOptions, type ReadPart } from './read/multipart.js'
export { JpegSplitter, splitJpegs, type JpegSplitterOptions } from './read/jpeg.js'
export { PUSH_VIEW_SCRIPT } from './push-view.js'
export { signUrl } from './signed-url.js'
export * from './errors.js'
