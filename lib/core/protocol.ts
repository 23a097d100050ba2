// Which protocol a request came over, told here and nowhere else: by the connection that carried it, as a request
// line is the client's word, and `GET / HTTP/2.0` can be sent on an HTTP/1 connection as easily as `HTTP/1.1`.
// Here each request gets its protocol's way: the sink its stream writes to, and how its response starts
// (http1-sink.ts, http2-sink.ts), what a plain answer may carry, and how many streams its connection holds.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { startSocketStream } from './http1-sink.js'
import { forHttp2, startHttp2Stream } from './http2-sink.js'
import { errorResponse, type PlainResponse } from './plain-response.js'
import { pushStreamsOnSession } from './session-turns.js'
import type { ResponseStart, Sink } from './sink.js'

/** The protocol of a request's connection, by major version: what protocolOf() tells, for forProtocol(). */
export type ProtocolVersion = 1 | 2

/** A request as any server adapter hands it over: node:http's, or node:http2's compatibility API's. */
export type AnyRequest = IncomingMessage | Http2ServerRequest

/** The response of an AnyRequest. */
export type AnyResponse = ServerResponse | Http2ServerResponse

/** Whether the request came on an HTTP/2 stream (node:http2's requests carry theirs; HTTP/1 ones have none). */
function overHttp2 (req: AnyRequest): req is Http2ServerRequest {
  return 'stream' in req
}

/** The protocol `req` came over, or undefined when its request line names a version its connection cannot carry. */
export function protocolOf (req: AnyRequest): ProtocolVersion | undefined {
  if (overHttp2(req)) return 2
  return req.httpVersionMajor === 1 ? 1 : undefined
}

/**
 * The answer to a request whose version a push or snapshot route cannot serve (HTTP/0.9, or HTTP/2.0 named on an
 * HTTP/1 connection): the client's mistake, answered 505 on its HTTP/1 connection and closed.
 */
export function unsupportedVersion (req: AnyRequest): PlainResponse {
  const over = req.httpVersionMajor === 2 ? ' on an HTTP/1 connection' : ''
  return errorResponse(505, `Server push needs HTTP/1.0, HTTP/1.1 or HTTP/2, got HTTP/${req.httpVersion}${over}`)
}

/** `response` as it may go out over HTTP/`protocol`. */
export function forProtocol (response: PlainResponse, protocol: ProtocolVersion): PlainResponse {
  return protocol === 2 ? forHttp2(response) : response
}

/**
 * How many push streams the connection of `req` carries now: over HTTP/2, its session's; over HTTP/1, 0, as a
 * connection there carries at most the one stream it is asked for.
 */
export function pushStreamsOn (req: AnyRequest): number {
  return overHttp2(req) ? pushStreamsOnSession(req.stream) : 0
}

/**
 * Starts the response of `req`, a request of a protocol protocolOf() knows, and returns where its parts go:
 * `undefined` when nothing more is to be written (a HEAD request, a client already gone, or an HTTP/1 connection
 * that also carries a later request, then closed).
 */
export function startResponse (req: AnyRequest, start: ResponseStart): Sink | undefined {
  return overHttp2(req) ? startHttp2Stream(req.stream, start) : startSocketStream(req, start)
}
