// A source written as a function: it returns an iterable of frames once per connection, or one frame each time
// it is called (a live HTML clock).
import type { FastifyRequest } from 'fastify'
import { isThenable, noop } from '../async.js'
import type { Frame } from '../frame.js'

/** What a source function gets, once per connection. */
export interface SourceContext {
  /** The request that opened the stream (params, query, headers, user set by hooks). */
  request: FastifyRequest
  /** Aborts when the stream ends for any reason: client gone, server closing, source ended or failed. */
  signal: AbortSignal
}

/** Frames one after another; an async generator is the typical one. Its end ends the stream. */
export type FrameIterable = AsyncIterable<Frame> | Iterable<Frame>

/**
 * Called once per connection. Returns either an iterable of frames (an async generator, an array), or one
 * frame or a promise of one: then it is called again for every part, paced by `intervalMs`, and `null` or
 * `undefined` ends the stream.
 */
export type SourceFunction = (context: SourceContext) =>
  FrameIterable | Frame | null | undefined | PromiseLike<Frame | null | undefined>

/** One connection's frames, as the pump pulls them. */
export type FrameIterator = Iterator<unknown> | AsyncIterator<unknown>

function isIterable (value: unknown): value is FrameIterable {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
}

/**
 * This connection's frames: the iterable's own iterator, so that `return()` reaches it at once, even while it is
 * busy inside `next()`; or, for a frame function, a loop that calls it again for every part.
 */
export function functionFrames (source: SourceFunction, context: SourceContext): FrameIterator {
  const first: unknown = source(context)
  if (isIterable(first)) return Symbol.asyncIterator in first ? first[Symbol.asyncIterator]() : first[Symbol.iterator]()
  // The first frame is awaited only at the first pull: until then its rejection must not count as unhandled.
  if (isThenable(first)) Promise.resolve(first).catch(noop)
  return pollFrames(source, context, first)
}

async function * pollFrames (source: SourceFunction, context: SourceContext, first: unknown): AsyncGenerator<unknown, void> {
  let frame = await first
  while (frame !== null && frame !== undefined) {
    yield frame
    frame = await source(context)
  }
}
