// A connection that carries a stream can carry nothing else: its response never ends, so no request after it
// could ever be answered. Node's HTTP server would still parse each one and keep it, with its reply, queued
// behind the stream for as long as the connection lasts: memory without bound on one socket. A request that
// arrives on such a connection, or bytes that are not HTTP, close it instead; and a stream does not start on a
// connection where a later request is already waiting.
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'

const streaming = new WeakSet<Duplex>()
const guarded = new WeakSet<Server>()
/** The last request Node parsed on each connection. */
const latest = new WeakMap<Duplex, IncomingMessage>()

/**
 * Marks `request`'s socket as carrying a stream from now on, unless a later request was parsed on it meanwhile
 * (sent along with it, or while it waited for an earlier response): then the connection is closed instead, and
 * `false` says so.
 */
export function carriesStream (request: IncomingMessage): boolean {
  const { socket } = request
  const last = latest.get(socket)
  // No record: the server was first guarded during this very request (a node:http handler's first one).
  if (last !== undefined && last !== request) {
    socket.destroy()
    return false
  }
  streaming.add(socket)
  return true
}

/**
 * Closes a stream's connection when a request arrives on it (Fastify still routes that request, on a socket
 * that is gone, and any others of the same read), and when the client sends bytes Node cannot parse, before
 * Fastify answers them with a 400 written into the stream. Once per server, whatever the number of registrations.
 */
export function guardStreamConnections (server: Server | undefined): void {
  if (server === undefined || guarded.has(server)) return
  guarded.add(server)
  server.prependListener('request', (request: IncomingMessage) => {
    latest.set(request.socket, request)
    if (streaming.has(request.socket)) request.socket.destroy()
  })
  server.prependListener('clientError', (_error: Error, socket: Duplex) => {
    if (streaming.has(socket)) socket.destroy()
  })
}
