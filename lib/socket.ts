// Ending a socket the plugin took over from Node's HTTP server.
import type { Socket } from 'node:net'

/** How long a client that has stopped reading may take to receive the last bytes before it is cut off. */
const END_GRACE_MS = 2000

/**
 * Writes `chunks` in one go and closes the socket once they are flushed, as Node's HTTP server does for
 * `Connection: close` (destroySoon: without it a client that never closes its side keeps the socket, and
 * fastify.close(), waiting). A client that stops reading is cut off after END_GRACE_MS.
 */
export function endSocket (socket: Socket, chunks: readonly Buffer[]): void {
  if (socket.destroyed) return
  socket.cork()
  for (const chunk of chunks) socket.write(chunk)
  socket.uncork()
  socket.destroySoon()
  const timer = setTimeout(() => socket.destroy(), END_GRACE_MS)
  socket.once('close', () => clearTimeout(timer))
}
