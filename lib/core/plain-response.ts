// The plain responses a push route answers instead of a stream: refusals in Fastify's JSON error shape, and
// whole bodies (a snapshot, the reader page). Each server adapter sends them its own way.
import { STATUS_CODES } from 'node:http'
import type { HeaderList } from './headers.js'

/** A response sent whole instead of a stream. */
export interface PlainResponse {
  readonly status: number
  readonly headers: HeaderList
  readonly type: string
  readonly body: string | Buffer
}

/**
 * An error answer in Fastify's JSON error shape, `{ statusCode, code, error, message }` (`code` when it has one,
 * `error` the status's reason phrase), closing the connection: a request body it leaves unread is not read.
 */
export function errorResponse (status: number, message: string, code?: string, headers: HeaderList = []): PlainResponse {
  return {
    status,
    headers: [...headers, ['Connection', 'close']],
    type: 'application/json; charset=utf-8',
    body: JSON.stringify({ statusCode: status, code, error: STATUS_CODES[status], message })
  }
}

/** 503 with Retry-After, closing the connection: the answer whenever a route cannot serve now. */
export function unavailable (message: string): PlainResponse {
  return errorResponse(503, message, undefined, [['Retry-After', '1']])
}
