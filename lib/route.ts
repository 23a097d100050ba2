// The request handler of a push route: lets Fastify's hooks answer first, then takes over the socket.
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { chooseFraming, wantsReaderPage } from './client.js'
import { FST_SERVER_PUSH_HTTP2_UNSUPPORTED, FST_SERVER_PUSH_INVALID_HEADER } from './errors.js'
import { mergeHeaders, toHeaderList } from './headers.js'
import { carriesStream } from './connection.js'
import type { ResolvedRoute } from './options.js'
import { endSocket } from './socket.js'
import type { RouteCounters } from './stats.js'
import type { Stream, StreamContext } from './stream.js'
import type { OpenStreams } from './streams.js'
import { READER_PAGE } from './reader-page.js'
import { RESPONSE_RESERVED, responseHead } from './wire.js'

/** Makes the stream of one request on a socket whose head and opening are written. */
export type StreamFactory = (context: Omit<StreamContext, 'route'>, request: FastifyRequest) => Stream

function invalidHeader (problem: string): Error {
  return new FST_SERVER_PUSH_INVALID_HEADER(problem)
}

/** 503 with Retry-After, closing the connection: the plugin's answer whenever it cannot serve now. */
export function unavailable (reply: FastifyReply, message: string): FastifyReply {
  return reply.code(503).header('Retry-After', '1').header('Connection', 'close')
    .send({ statusCode: 503, error: 'Service Unavailable', message })
}

export function pushHandler (route: ResolvedRoute, counters: RouteCounters, streams: OpenStreams, create: StreamFactory): RouteHandlerMethod {
  const onEnd = (stream: Stream): void => streams.delete(stream)
  return function serverPushHandler (request: FastifyRequest, reply: FastifyReply): void {
    const { httpVersionMajor, httpVersion } = request.raw
    if (httpVersionMajor === 2) throw new FST_SERVER_PUSH_HTTP2_UNSUPPORTED()
    // HTTP/0.9 (a bare `GET /path` line): the client's mistake, answered as such and logged as a request, not
    // as a server error.
    if (httpVersionMajor !== 1) {
      reply.code(505).header('Connection', 'close').send({
        statusCode: 505,
        error: 'HTTP Version Not Supported',
        message: `Server push needs HTTP/1.0 or HTTP/1.1, got HTTP/${httpVersion}`
      })
      return
    }
    // A request pipelined behind one whose response is still going out gets the socket only once that response
    // has ended: HTTP/1.1 answers in order, and a stream written now would land in the middle of it.
    if (reply.raw.socket === null) {
      reply.raw.once('socket', () => {
        try {
          serve(request, reply)
        } catch (error) {
          reply.send(error)
        }
      })
      return
    }
    serve(request, reply)
  }

  /** Answers an HTTP/1 request whose turn on its connection has come. */
  function serve (request: FastifyRequest, reply: FastifyReply): void {
    const raw = request.raw
    if (streams.closing) {
      unavailable(reply, 'Server is closing')
      return
    }
    const framing = chooseFraming(route.framing, request.query as Record<string, unknown>, raw.headers)
    if (route.html && wantsReaderPage(raw.headers)) {
      for (const [name, value] of route.plainHeaders) reply.header(name, value)
      reply.type('text/html; charset=utf-8').send(READER_PAGE)
      return
    }
    if (request.method === 'GET' && counters.viewers >= route.maxClients) {
      counters.viewersRefused++
      unavailable(reply, `This stream has its maximum of ${route.maxClients} viewers`)
      return
    }
    // Headers from hooks (CORS, auth) are checked before the socket is taken, so a bad one is still a plain 500.
    const hooked = toHeaderList(reply.getHeaders(), invalidHeader)
      .filter(([name]) => !RESPONSE_RESERVED.has(name.toLowerCase()))
    const head = Buffer.from(responseHead(raw.httpVersion === '1.0' ? '1.0' : '1.1', route.multipart.contentType,
      mergeHeaders(route.headers, hooked)), 'latin1')
    reply.hijack()
    const socket = raw.socket
    if (request.method === 'HEAD') return endSocket(socket, [head])
    if (!carriesStream(raw)) {
      request.log.debug({ route: route.path }, 'server push request with another pipelined behind it: connection closed')
      return
    }
    socket.cork()
    socket.write(head)
    socket.write(route.multipart.opening)
    socket.uncork()
    const stream = create({ socket, framing, log: request.log, onEnd }, request)
    streams.add(stream)
    stream.start()
  }
}
