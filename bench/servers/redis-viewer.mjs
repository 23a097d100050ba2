// One instance behind Redis: a live route showing the channel through redisSource(), fed by
// bench/servers/redis-publisher.mjs in another process.
import Fastify from 'fastify'
import serverPush from 'fastify-server-push'
import { redisSource } from 'fastify-server-push/redis'
import { serve, settings } from '../common.mjs'

const { redisUrl } = settings()
const app = Fastify({ logger: false })
await app.register(serverPush, { routes: [{ path: '/live', source: redisSource({ url: redisUrl, channel: 'bench' }), boundary: 'bench' }] })
await app.listen({ port: 0, host: '127.0.0.1' })
serve(app.server.address().port)
