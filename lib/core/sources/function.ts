// A source written as a function: it returns an iterable of frames once per connection, or one frame each time
// it is called (a live HTML clock).
import { isThenable, noop } from '../async.js'
import type { Frame } from '../frame.js'

/** What a source function gets, once per connection. */
export interface SourceContext<Request = unknown> {
  /** The request that opened the stream: Fastify's (params, query, user set by hooks) or Node's IncomingMessage. */
  request: Request
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
export type SourceFunction<Request = unknown> = (context: SourceContext<Request>) =>
  FrameIterable | Frame | null | undefined | PromiseLike<Frame | null | undefined>

/** One connection's frames, as the pump pulls them: each step now, or a promise of it. */
export interface FrameIterator {
  next (): IteratorResult<unknown> | PromiseLike<IteratorResult<unknown>>
  return? (value?: never): unknown
}

function isIterable (value: unknown): value is FrameIterable {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) &&
    (Symbol.asyncIterator in value || Symbol.iterator in value)
}

/**
 * This connection's frames: the iterable's own iterator, so that `return()` reaches it at once, even while it is
 * busy inside `next()`; or, for a frame function, a loop that calls it again for every part.
 */
export function functionFrames<Request> (source: SourceFunction<Request>, context: SourceContext<Request>): FrameIterator {
  const first: unknown = source(context)
  if (isIterable(first)) return Symbol.asyncIterator in first ? first[Symbol.asyncIterator]() : first[Symbol.iterator]()
  // The first frame is awaited only at the first pull: until then its rejection must not count as unhandled.
  if (isThenable(first)) Promise.resolve(first).catch(noop)
  return pollFrames(source, context, first)
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

/** A frame as a step; `null` or `undefined` ends the frames. Outside `pollFrames`, so that a pending promise's
 * handler shares no scope with it, and so keeps nothing of the request. */
function step (frame: unknown): IteratorResult<unknown> {
  return frame === null || frame === undefined ? DONE : { done: false, value: frame }
}

/**
 * A frame function's frames, one call per pull. Written by hand rather than as an async generator: a generator
 * awaiting a promise that never settles would keep its whole frame (the request, the connection) alive after
 * the viewer left. A frame returned as is is a step at once, with no promise.
 */
function pollFrames<Request> (source: SourceFunction<Request>, context: SourceContext<Request>, first: unknown): FrameIterator {
  let pulled = false
  return {
    next () {
      const frame = pulled ? source(context) : first
      pulled = true
      return isThenable(frame) ? Promise.resolve(frame).then(step) : step(frame)
    }
  }
}
