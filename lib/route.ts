// The request handler of a push route: lets Fastify's hooks answer first, then takes over the socket.
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { FST_SERVER_PUSH_HTTP2_UNSUPPORTED, FST_SERVER_PUSH_INVALID_HEADER } from './errors.js'
import { mergeHeaders, toHeaderList } from './headers.js'
import { RESPONSE_RESERVED, type ResolvedRoute } from './options.js'
import { PushStream, type FrameIterator } from './pump.js'
import { responseHead } from './wire.js'

/** Makes one connection's frame iterator. */
export type Opener = (request: FastifyRequest, signal: AbortSignal) => FrameIterator

function invalidHeader (problem: string): Error {
  return new FST_SERVER_PUSH_INVALID_HEADER(problem)
}

export function pushHandler (route: ResolvedRoute, open: Opener, streams: Set<PushStream>): RouteHandlerMethod {
  return function serverPushHandler (request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw
    if (raw.httpVersionMajor !== 1) throw new FST_SERVER_PUSH_HTTP2_UNSUPPORTED()
    // Headers from hooks (CORS, auth) are checked before the socket is taken, so a bad one is still a plain 500.
    const hooked = toHeaderList(reply.getHeaders(), invalidHeader)
      .filter(([name]) => !RESPONSE_RESERVED.has(name.toLowerCase()))
    const head = responseHead(raw.httpVersion === '1.0' ? '1.0' : '1.1', route.framing.contentType,
      mergeHeaders(route.headers, hooked))
    reply.hijack()
    const socket = raw.socket
    if (request.method === 'HEAD') {
      socket.end(head, 'latin1')
      return
    }
    socket.cork()
    socket.write(head, 'latin1')
    socket.write(route.framing.opening)
    socket.uncork()
    const stream = new PushStream(socket, route, request.log, (ended) => streams.delete(ended))
    streams.add(stream)
    stream.start((signal) => open(request, signal))
  }
}
