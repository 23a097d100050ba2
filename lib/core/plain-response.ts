// The plain responses a push route answers instead of a stream: refusals in Fastify's JSON error shape, and
// whole bodies (a snapshot, the reader page). Each server adapter sends them its own way.
import type { HeaderList } from './headers.js'

/** A response sent whole instead of a stream. */
export interface PlainResponse {
  readonly status: number
  readonly headers: HeaderList
  readonly type: string
  readonly body: string | Buffer
}

/** A JSON error answer that closes the connection. */
export function errorResponse (status: number, error: string, message: string, headers: HeaderList = []): PlainResponse {
  return {
    status,
    headers: [...headers, ['Connection', 'close']],
    type: 'application/json; charset=utf-8',
    body: JSON.stringify({ statusCode: status, error, message })
  }
}

/** 503 with Retry-After, closing the connection: the answer whenever a route cannot serve now. */
export function unavailable (message: string): PlainResponse {
  return errorResponse(503, 'Service Unavailable', message, [['Retry-After', '1']])
}
