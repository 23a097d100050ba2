// Compiled against the built package's Redis entry (dist/esm/redis.d.ts) as a user sharing a camera sees it, with
// their own node-redis client as well as a URL.
import { createClient } from '@redis/client'
import Fastify from 'fastify'
import serverPush, { fromCommand } from 'fastify-server-push'
import { publishToRedis, redisSource, type PublishToRedisOptions, type RedisPublisher } from 'fastify-server-push/redis'

const camera = fromCommand('ffmpeg', ['-i', 'rtsp://camera/stream', '-f', 'mjpeg', '-'])
const options: PublishToRedisOptions = { url: 'rediss://user:pass@redis.internal:6380', channel: 'hall', prefix: 'app1:', maxFrameBytes: 2 ** 20 }
const publisher: RedisPublisher = publishToRedis(camera, options)
const client = createClient({ url: 'redis://127.0.0.1:6379' })
const shown = redisSource({ client, channel: 'hall', lingerMs: 5000 })
const app = Fastify()
await app.register(serverPush, { routes: [{ path: '/hall.mjpg', source: shown, snapshot: '/hall.jpg' }] })
const producing: boolean = publisher.producing
await publisher.close()
// @ts-expect-error a channel is required
redisSource({ url: 'redis://127.0.0.1' })
// @ts-expect-error only live sources are published
publishToRedis(() => ['frame'], { channel: 'hall' })
export { producing }
