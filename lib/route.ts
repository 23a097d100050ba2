// The request handler of a push route: lets Fastify's hooks answer first, then takes over the socket.
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { FST_SERVER_PUSH_HTTP2_UNSUPPORTED, FST_SERVER_PUSH_INVALID_HEADER } from './errors.js'
import { mergeHeaders, toHeaderList } from './headers.js'
import type { ResolvedRoute } from './options.js'
import { PushStream } from './pump.js'
import { endSocket } from './socket.js'
import type { FrameIterator } from './sources/function.js'
import { RESPONSE_RESERVED, responseHead } from './wire.js'

/** Makes one connection's frame iterator. */
export type Opener = (request: FastifyRequest, signal: AbortSignal) => FrameIterator

/** What the routes of one plugin registration share. */
export interface PushState {
  readonly streams: Set<PushStream>
  /** Set by preClose: a request still in its hooks then must not start a stream that nothing would end. */
  closing: boolean
}

// A client may pipeline a second request behind a push request; a second stream on the same socket would
// interleave two bodies, so it is ignored: the socket closes with the first stream.
const streaming = new WeakSet<Socket>()

function invalidHeader (problem: string): Error {
  return new FST_SERVER_PUSH_INVALID_HEADER(problem)
}

export function pushHandler (route: ResolvedRoute, open: Opener, state: PushState): RouteHandlerMethod {
  return function serverPushHandler (request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw
    if (raw.httpVersionMajor !== 1) throw new FST_SERVER_PUSH_HTTP2_UNSUPPORTED()
    if (state.closing) {
      reply.code(503).header('Connection', 'close').send({ statusCode: 503, error: 'Service Unavailable', message: 'Server is closing' })
      return
    }
    // Headers from hooks (CORS, auth) are checked before the socket is taken, so a bad one is still a plain 500.
    const hooked = toHeaderList(reply.getHeaders(), invalidHeader)
      .filter(([name]) => !RESPONSE_RESERVED.has(name.toLowerCase()))
    const head = Buffer.from(responseHead(raw.httpVersion === '1.0' ? '1.0' : '1.1', route.framing.contentType,
      mergeHeaders(route.headers, hooked)), 'latin1')
    reply.hijack()
    const socket = raw.socket
    if (streaming.has(socket)) {
      request.log.debug({ route: route.path }, 'server push request pipelined behind a stream: ignored')
      return
    }
    if (request.method === 'HEAD') return endSocket(socket, [head])
    streaming.add(socket)
    socket.cork()
    socket.write(head)
    socket.write(route.framing.opening)
    socket.uncork()
    const stream = new PushStream(socket, route, request.log, (ended) => state.streams.delete(ended))
    state.streams.add(stream)
    stream.start((signal) => open(request, signal))
  }
}
