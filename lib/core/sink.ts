// Where a stream's bytes go: the socket taken over from Node's HTTP/1 server, or the request's own HTTP/2 stream.
// Both are Duplexes that report backpressure alike; what differs is how each is cut, ended and let go, here.
import { constants, type ServerHttp2Stream } from 'node:http2'
import type { Duplex } from 'node:stream'
import { libuvQueuedBytes } from './node-internals.js'
import { joinSession, noteWritten, resetStream, sessionFull, sessionPassed, stallSession, stopWaitingForSession, whenSessionHasRoom } from './session-budget.js'

/** A stream's destination: a socket or an HTTP/2 stream, written to, corked and drained alike. */
export type Sink = Duplex

/**
 * Cuts the client off, mid-part if need be: a socket is destroyed; an HTTP/2 stream is reset (RST_STREAM with
 * CANCEL, so the client can tell it from a stream that ended), and its connection carries on, unless the reset
 * cannot go out on it (see session-budget.ts).
 */
export function cutSink (sink: Sink): void {
  if (isHttp2Stream(sink)) resetStream(sink, constants.NGHTTP2_CANCEL)
  else sink.destroy()
}

/**
 * Counts the sink on its connection from now on: an HTTP/2 stream on its session, `stalled` ending its stream
 * should the session be cut as a whole; a socket is its own connection.
 */
export function joinConnection (sink: Sink, stalled: () => void): void {
  if (isHttp2Stream(sink)) joinSession(sink, stalled)
}

/**
 * Cuts the sink's whole connection, every stream on it ended as stalled: only an HTTP/2 session can be full
 * (see `connectionFull`), and stuck as a whole.
 */
export function cutConnection (sink: Sink): void {
  if (isHttp2Stream(sink)) stallSession(sink)
}

/** Takes what was just written to the sink into its connection's total; called after each write. */
export function noteWrite (sink: Sink): void {
  if (isHttp2Stream(sink)) noteWritten(sink)
}

/**
 * A count that grows whenever the sink's connection hands bytes on, for a stream waiting for its connection
 * rather than for its own buffer: an HTTP/2 session's progress; 0 for a socket, whose own buffer says it all.
 */
export function connectionPassed (sink: Sink): number | undefined {
  return isHttp2Stream(sink) ? sessionPassed(sink) : 0
}

/**
 * Whether the end of what the client sends means it has left: a socket's does (it half-closed), while an HTTP/2
 * stream's comes with the request itself.
 */
export function endMeansGone (sink: Sink): boolean {
  return !isHttp2Stream(sink)
}

/**
 * Lets the sink's connection close once what it carries is done, as the server closes: a socket is closed by
 * `endSink` already; an HTTP/2 session is told to go away (GOAWAY), or a server's close() would wait for it until
 * the session times out (Fastify closes sessions itself only with forceCloseConnections, on Node before 24).
 */
export function closeConnection (sink: Sink): void {
  if (!isHttp2Stream(sink)) return
  const { session } = sink
  if (session === undefined || session.closed) return
  session.close()
  // A session whose client went away as the server closed can be left waiting for streams that never finish
  // closing: it is destroyed after the grace its streams get.
  const timer = setTimeout(() => session.destroy(), END_GRACE_MS)
  session.once('close', () => clearTimeout(timer))
}

/**
 * Whether the sink has no room for another part now: its own buffer is full, or its connection is (see
 * `connectionFull`). Checked right before each write, in the same tick.
 */
export function sinkFull (sink: Sink): boolean {
  return sink.writableNeedDrain || connectionFull(sink)
}

/**
 * Whether the sink's connection holds all it may: for an HTTP/2 stream, the push streams of its session hold
 * their budget between them (session-budget.ts); a socket carries one stream, and its own buffer says it all.
 */
export function connectionFull (sink: Sink): boolean {
  return isHttp2Stream(sink) && sessionFull(sink)
}

/** Calls `wake` once, when a full sink may have room again. */
export function whenRoom (sink: Sink, wake: () => void): void {
  if (isHttp2Stream(sink) && !sink.writableNeedDrain) whenSessionHasRoom(sink, wake)
  else sink.once('drain', wake)
}

/** Stops a `whenRoom` wait; nothing when there is none. */
export function stopWaitingForRoom (sink: Sink, wake: () => void): void {
  sink.off('drain', wake)
  if (isHttp2Stream(sink)) stopWaitingForSession(sink)
}

/** Whether the sink is an HTTP/2 stream (else a socket). */
function isHttp2Stream (sink: Sink): sink is ServerHttp2Stream {
  return 'respond' in sink
}

/** How long a client that has stopped reading may take to receive the last bytes before it is cut off. */
const END_GRACE_MS = 2000

/**
 * Writes `chunks` in one go and closes the sink once they are flushed, as Node's HTTP server does for
 * `Connection: close` (without the destroy a client that never closes its side keeps the socket, and a server's
 * close(), waiting). A client that stops reading is cut off after END_GRACE_MS.
 */
export function endSink (sink: Sink, chunks: readonly Buffer[]): void {
  if (sink.destroyed) return
  sink.cork()
  for (const chunk of chunks) sink.write(chunk)
  sink.uncork()
  noteWrite(sink)
  sink.end()
  sink.once('finish', () => sink.destroy())
  const timer = setTimeout(() => cutSink(sink), END_GRACE_MS)
  sink.once('close', () => clearTimeout(timer))
}

/**
 * Bytes handed on from Node's buffer but not yet taken by the kernel: they shrink as a slow client reads. 0 for
 * an HTTP/2 stream, whose session's progress is `connectionPassed`.
 */
export function queuedBytes (sink: Sink): number {
  return isHttp2Stream(sink) ? 0 : libuvQueuedBytes(sink)
}
