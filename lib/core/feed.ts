// The one place where a route's source is told apart by kind: whatever it is, it becomes a Feed, which makes
// each viewer's stream and says whether the route's parts are pages.
import { LiveChannel, LiveStream } from './live/live-stream.js'
import { A_LIVE_SOURCE, hubOf, isLiveSource, type LiveHub, type LiveSource } from './live/source.js'
import { PullStream } from './pull-stream.js'
import { RecentParts } from './recent-parts.js'
import { toPart, type PartFormat } from './frame.js'
import type { Logger } from './logger.js'
import type { OfflineFrame } from './offline.js'
import { cycle, isFileSource, loadParts, type FileSource } from './sources/files.js'
import { functionFrames, type SourceFunction } from './sources/function.js'
import type { PushStream, StreamContext } from './stream.js'
import { isHtml } from './syntax.js'
import type { EncodedPart } from './wire.js'

/**
 * Where a route's frames come from: a function (see `SourceFunction`), `fromFiles()` / `fromDirectory()`, or a
 * live source (`createLiveSource()`, `liveFrom()`, `fromCommand()`, `relay()`, `redisSource()`) that every viewer
 * of the route shares. `Request` is what a source function gets as `request`.
 */
export type Source<Request = unknown> = SourceFunction<Request> | FileSource | LiveSource

/** Why `source` is not a source, or undefined when it is one. */
export function sourceProblem (source: unknown): string | undefined {
  if (typeof source === 'function' || isFileSource(source) || isLiveSource(source)) return undefined
  return `source must be a function, fromFiles(), fromDirectory() or ${A_LIVE_SOURCE}, got ${source === null ? 'null' : typeof source}`
}

/** A route's source made ready for its viewers. */
export interface Feed<Request> {
  /** The route's parts are HTML pages. */
  readonly html: boolean
  /** The hub of the live source every viewer shares; undefined when each viewer has its own frames. */
  readonly live: LiveHub | undefined
  /** Makes one viewer's stream; `request` is handed to a source function. */
  stream (context: StreamContext, request: Request): PushStream
  /** The route is gone: a live source stops feeding it; settles once a producer it stopped has stopped. */
  detach (): Promise<void>
}

const NOTHING_TO_DETACH = async (): Promise<void> => {}

/** How a route makes its parts, and what it shows while a live source is offline. */
export interface FeedFormat extends PartFormat {
  readonly offlineFrame: OfflineFrame | undefined
}

/**
 * Makes a route's feed. Files are read and encoded now, once for every viewer (rejects with
 * FST_SERVER_PUSH_INVALID_SOURCE naming `path`); a live source starts feeding the route now, and takes the route's
 * logger and name unless an earlier push route gave it theirs: at once, so that routes name a source in the order
 * they are made.
 */
export async function openFeed<Request> (source: Source<Request>, path: string, format: FeedFormat, log: Logger): Promise<Feed<Request>> {
  const { contentType } = format
  if (isLiveSource(source)) {
    const live = hubOf(source)
    live.adopt(log, path, true)
    const channel = new LiveChannel(format, live)
    return {
      html: isHtml(contentType),
      live,
      stream: (context) => new LiveStream(context, channel),
      detach: () => channel.detach()
    }
  }
  if (isFileSource(source)) {
    const parts = await loadParts(source, path, format)
    const encoded = { open: () => cycle(parts), encode: (part: unknown) => part as EncodedPart }
    return {
      html: parts.every((part) => isHtml(part.announce.type)),
      live: undefined,
      stream: (context) => new PullStream(context, encoded),
      detach: NOTHING_TO_DETACH
    }
  }
  const recent = new RecentParts()
  const encode = (frame: unknown): EncodedPart => {
    if (!(frame instanceof Uint8Array)) return toPart(frame, format)
    let part = recent.get(frame)
    if (part === undefined) recent.add(frame, part = toPart(frame, format))
    return part
  }
  return {
    html: isHtml(contentType),
    live: undefined,
    stream: (context, request) => new PullStream(context, { open: (signal) => functionFrames(source, { request, signal }), encode }),
    detach: NOTHING_TO_DETACH
  }
}
