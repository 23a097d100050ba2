// A Fastify request to a push route as the core sees it: plain responses go out through the reply (onSend hooks,
// the error handler), and a stream takes the connection with reply.hijack().
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { PlainResponse } from '../core/plain-response.js'
import type { PushExchange } from '../core/push-route.js'

/** Sends a plain response through Fastify. */
export function sendPlain (reply: FastifyReply, response: PlainResponse): FastifyReply {
  reply.code(response.status)
  for (const [name, value] of response.headers) reply.header(name, value)
  return reply.type(response.type).send(response.body)
}

export function fastifyExchange (request: FastifyRequest, reply: FastifyReply): PushExchange<FastifyRequest> {
  return {
    req: request.raw,
    res: reply.raw,
    request,
    log: request.log,
    presetHeaders: () => reply.getHeaders(),
    answer: (response) => { sendPlain(reply, response) },
    takeOver: () => { reply.hijack() }
  }
}
