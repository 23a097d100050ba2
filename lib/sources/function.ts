// A source written as a function: it returns an iterable of frames once per connection, or one frame each time
// it is called (a live HTML clock).
import type { FastifyRequest } from 'fastify'
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
 * Called once per connection. Returns either an iterable of frames, or one frame (or a promise of one): then
 * it is called again for every part, paced by `intervalMs`, and `null` or `undefined` ends the stream.
 */
export type SourceFunction = (context: SourceContext) =>
  FrameIterable | Frame | null | undefined | PromiseLike<FrameIterable | Frame | null | undefined>

export function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}

function isIterable (value: unknown): value is FrameIterable {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
}

/** The frames of one connection; `return()` on it reaches the user's iterator, so its `finally` blocks run. */
export async function * functionFrames (source: SourceFunction, context: SourceContext): AsyncGenerator<unknown, void> {
  let result: unknown = source(context)
  if (isThenable(result)) result = await result
  if (isIterable(result)) {
    yield * result
    return
  }
  while (result !== null && result !== undefined) {
    yield result
    result = source(context)
    if (isThenable(result)) result = await result
  }
}
