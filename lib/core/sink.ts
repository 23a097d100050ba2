// Where a stream's bytes go: today the socket taken over from Node's HTTP server; any Duplex that reports
// backpressure the same way (an HTTP/2 stream) will do.
import type { Duplex } from 'node:stream'

/** A stream's destination: written to, corked, drained and destroyed like a socket. */
export type Sink = Duplex

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
  sink.end()
  sink.once('finish', () => sink.destroy())
  const timer = setTimeout(() => sink.destroy(), END_GRACE_MS)
  sink.once('close', () => clearTimeout(timer))
}

/**
 * Bytes libuv holds for a socket that the kernel has not taken yet: it shrinks as a slow client reads, while the
 * part being written is still far from done. Not public API, so read defensively: 0 when it is not there.
 */
export function queuedBytes (sink: Sink): number {
  // A socket destroyed but not yet closed (a watch can come in between) has no handle.
  /* c8 ignore next */
  return (sink as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize ?? 0
}
