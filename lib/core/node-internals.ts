// Every reach into Node's internals, one function each: none of them is public API, so a Node release can move
// any of them without a word. test/node-internals.test.ts checks each one on a real server of the Node it runs
// on, and fails loudly when one has moved; at run time each falls back to a defined, weaker behaviour instead.
//
// - Node's HTTP server's own listeners on a connection's socket, found by their names (`bound socketOnData`, …):
//   a socket that carries a stream is taken off the server (connection.ts), which Node offers no public way to do.
// - libuv's write queue of a socket (`_handle.writeQueueSize`): how a stall watch sees a slow reader take a big
//   part bit by bit (stream.ts), while Node's own buffer still holds the whole part.
// - The TCP socket under a TLS one (`_parent`): an HTTP/2 session whose peer stopped reading is destroyed with
//   its TCP connection (session-turns.ts), which the session's socket refuses and a TLS socket cannot reset.
import { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'

/**
 * Node's HTTP server's own listeners for `event` on a connection's socket: bound functions named after what
 * they handle (`socketOnData`, `socketOnEnd`, `socketOnDrain`). None on a Node that names them otherwise: the
 * server then stays on the connection, which still closes on the client's next byte (see connection.ts), and
 * runs its 'drain' listener after every part.
 */
export function httpServerListeners (socket: Duplex, event: string): Array<(...args: unknown[]) => void> {
  return socket.listeners(event).filter((listener) => listener.name.startsWith('bound socketOn')) as Array<(...args: unknown[]) => void>
}

/**
 * Bytes libuv holds for `socket` that the kernel has not taken yet: it shrinks as a slow client reads, while the
 * part being written is still far from done. 0 when the socket has no handle (destroyed, not yet closed) or a
 * Node keeps the count elsewhere: then only parts and Node's own buffer tell a stream's progress.
 */
export function libuvQueuedBytes (socket: Duplex): number {
  const queued = (socket as { _handle?: { writeQueueSize?: unknown } | null })._handle?.writeQueueSize
  // A destroyed socket's handle is gone before it closes, and a watch can come in between: no test can time that.
  /* c8 ignore next */
  return typeof queued === 'number' ? queued : 0
}

/**
 * The TCP socket `socket` runs on: itself in cleartext, the one TLS wraps under TLS. Undefined when a Node keeps
 * the wrapped socket elsewhere: then an HTTP/2 session can only be destroyed as the session API allows, once
 * what it is writing has gone.
 */
export function tcpSocketOf (socket: Socket): Socket | undefined {
  if ((socket as Partial<TLSSocket>).encrypted !== true) return socket
  const parent = (socket as { _parent?: unknown })._parent
  // Found on every Node this package supports (test/node-internals.test.ts fails where it is not).
  /* c8 ignore next */
  return parent instanceof Socket ? parent : undefined
}
