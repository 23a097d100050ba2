// The snapshot route of a live source: its latest frame as one plain response (an IP camera's /video.jpg).
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import type { LiveSource } from './live/source.js'
import type { ResolvedRoute } from './options.js'
import { unavailable } from './route.js'
import type { OpenStreams } from './streams.js'

export function snapshotHandler (route: ResolvedRoute, source: LiveSource, timeoutMs: number, streams: OpenStreams): RouteHandlerMethod {
  return async function serverPushSnapshot (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    // Holding the source while waiting starts a liveFrom() producer that nobody is watching yet.
    source.acquire()
    try {
      const frame = source.latest ?? await source.nextFrame(timeoutMs, streams.whenClosing)
      // A response finished while the server closes must not leave a keep-alive connection that close() waits for.
      if (streams.closing) reply.header('Connection', 'close')
      if (frame === undefined) return unavailable(reply, 'No frame has been published yet')
      for (const [name, value] of [...route.plainHeaders, ...frame.headers, ...frame.extra]) reply.header(name, value)
      return reply.type(frame.contentType ?? route.contentType).send(frame.body)
    } finally {
      source.release()
    }
  }
}
