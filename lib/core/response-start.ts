// How a stream's response starts on each protocol, which is all that differs between them: over HTTP/1 the head
// is written on the socket the route takes over, and the socket is the stream's sink; over HTTP/2 the request's
// own stream responds with a HEADERS frame and is the sink, while the connection carries other streams.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerResponse, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import { carriesStream } from './connection.js'
import { CONNECTION_SPECIFIC, type HeaderList } from './headers.js'
import type { Logger } from './logger.js'
import type { ProtocolVersion } from './protocol.js'
import { endSink, type Sink } from './sink.js'
import { responseHead } from './wire.js'

/** What a response starts with: its Content-Type and other headers, and the first bytes of its body. */
export interface ResponseStart {
  /** The route, as log lines name it. */
  readonly route: string
  readonly log: Logger
  readonly contentType: string
  readonly headers: HeaderList
  /** Written right after the head. */
  readonly opening: Buffer
}

/** An HTTP/2 response's header block: no connection-specific field, which HTTP/2 forbids. */
export function http2Headers (status: number, contentType: string, headers: HeaderList): OutgoingHttpHeaders {
  const fields: Record<string, string | string[]> = { ':status': String(status), 'content-type': contentType }
  for (const [name, value] of headers) {
    const key = name.toLowerCase()
    if (CONNECTION_SPECIFIC.has(key)) continue
    const had = fields[key]
    fields[key] = had === undefined ? value : [had, value].flat()
  }
  return fields
}

/**
 * Starts the response of `req`, over the `protocol` its connection speaks, and returns where its parts go;
 * `undefined` when nothing more is to be written: a HEAD request (its head is all it gets), a client already gone,
 * or an HTTP/1 connection that also carries a later request (then closed).
 */
export function startResponse (req: IncomingMessage, res: ServerResponse, protocol: ProtocolVersion, start: ResponseStart): Sink | undefined {
  if (protocol === 2) {
    const { stream } = res as unknown as Http2ServerResponse
    // Reset by the client while the request was in hooks.
    if (stream.destroyed || stream.closed) return undefined
    const head = http2Headers(200, start.contentType, start.headers)
    if (req.method === 'HEAD') {
      stream.respond(head, { endStream: true })
      return undefined
    }
    stream.respond(head)
    stream.write(start.opening)
    return stream as ServerHttp2Stream
  }
  const socket = req.socket as Socket
  const head = Buffer.from(responseHead(req.httpVersion === '1.0' ? '1.0' : '1.1', start.contentType, start.headers), 'latin1')
  if (req.method === 'HEAD') {
    endSink(socket, [head])
    return undefined
  }
  if (!carriesStream(req)) {
    start.log.debug({ route: start.route }, 'server push request with another pipelined behind it: connection closed')
    return undefined
  }
  socket.cork()
  socket.write(head)
  socket.write(start.opening)
  socket.uncork()
  return socket
}
