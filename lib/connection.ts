// A connection that carries a stream can carry nothing else: its response never ends, so no request after it
// could ever be answered. Node's HTTP server would still parse each one and keep it, with its reply, queued
// behind the stream for as long as the connection lasts: memory without bound on one socket. A request that
// arrives on such a connection, or bytes that are not HTTP, close it instead.
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'

const streaming = new WeakSet<Duplex>()
const guarded = new WeakSet<Server>()

/** Marks `socket` as carrying a stream from now on. */
export function carriesStream (socket: Duplex): void {
  streaming.add(socket)
}

/**
 * Closes a stream's connection when a request arrives on it, before Fastify handles the request, and when the
 * client sends bytes Node cannot parse, before Fastify answers them with a 400 written into the stream. Once per
 * server, whatever the number of registrations.
 */
export function guardStreamConnections (server: Server): void {
  if (guarded.has(server)) return
  guarded.add(server)
  server.prependListener('request', (request: IncomingMessage) => {
    if (streaming.has(request.socket)) request.socket.destroy()
  })
  server.prependListener('clientError', (_error: Error, socket: Duplex) => {
    if (streaming.has(socket)) socket.destroy()
  })
}
