// A connection that carries a stream can carry nothing else: its response never ends, so no request after it
// could ever be answered. Node's HTTP server would still parse each one and keep it, with its reply, queued
// behind the stream for as long as the connection lasts: memory without bound on one socket. So Node's HTTP
// server lets go of the connection once its stream starts, and whatever the client sends on it then closes it;
// and a stream does not start on a connection where a later request is already waiting.
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { httpServerListeners } from './node-internals.js'

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
  // A handler that starts the stream at once runs while Node is still parsing the request: it is complete once
  // the parser is done with what it read.
  if (request.complete) detachFromServer(request)
  else setImmediate(detachFromServer, request)
  return true
}

/**
 * Takes Node's HTTP server off the connection of `request` once it has been read: its parser reads no more,
 * and its listeners for what the socket reads and for every part written ('drain') are gone; a byte from the
 * client now closes the connection. What frees the parser when the socket closes stays. While a request's
 * body is still coming the server keeps reading, and the guard below closes the connection on a next request.
 */
function detachFromServer (request: IncomingMessage): void {
  const { socket } = request
  if (!request.complete) return
  for (const event of SERVER_SOCKET_EVENTS) {
    for (const listener of httpServerListeners(socket, event)) socket.off(event, listener)
  }
  // Node's server stops its parser from reading the socket itself as soon as the socket has a 'data' listener;
  // one it had paused would not be read again without the resume.
  socket.on('data', closeOnBytes)
  socket.resume()
}

/** The events Node's HTTP server listens to on each socket: for reading requests, and for writing responses. */
const SERVER_SOCKET_EVENTS = ['data', 'end', 'drain'] as const

function closeOnBytes (this: Duplex): void {
  this.destroy()
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
