// Which protocol a request came over, told by the connection that carried it: a request line is the client's
// word, and `GET / HTTP/2.0` can be sent on an HTTP/1 connection as easily as `HTTP/1.1`.
import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import { errorResponse, type PlainResponse } from './plain-response.js'

/** The protocol of a request's connection, by major version. */
export type ProtocolVersion = 1 | 2

/** A request as any server adapter hands it over: node:http's, or node:http2's compatibility API's. */
export type AnyRequest = IncomingMessage | Http2ServerRequest

/** Whether the request came on an HTTP/2 stream (node:http2's requests carry theirs; HTTP/1 ones have none). */
export function overHttp2 (req: AnyRequest): req is Http2ServerRequest {
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
  return errorResponse(505, 'HTTP Version Not Supported', `Server push needs HTTP/1.0, HTTP/1.1 or HTTP/2, got HTTP/${req.httpVersion}${over}`)
}
