// The plugin: a live route fed at `fps` with prebuilt frames; over cleartext HTTP/2 (h2c) when `http2` is set.
import Fastify from 'fastify'
import serverPush, { createLiveSource } from 'fastify-server-push'
import { capture, every, makeFrames, serve, settings } from '../common.mjs'

const { fps, size, count, http2 } = settings()
const frames = makeFrames(size, count)
const live = createLiveSource()
const app = Fastify({ logger: false, http2: http2 === true })
await app.register(serverPush, { routes: [{ path: '/live', source: live, boundary: 'bench' }] })
await app.listen({ port: 0, host: '127.0.0.1' })
serve(app.server.address().port, () => every(fps, (n) => live.publish(capture(frames, n))))
