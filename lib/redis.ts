// `fastify-server-push/redis`: live sources shared through Redis, so that several processes or machines show one
// camera that is read once. Only this entry loads a Redis client (node-redis's @redis/client, a peer dependency).
export { redisSource, type RedisSourceOptions } from './redis/source.js'
export { publishToRedis, type PublishToRedisOptions, type RedisPublisher } from './redis/publisher.js'
export { FST_SERVER_PUSH_FRAME_TOO_LARGE } from './core/errors.js'
export type { RedisClient, RedisOptions } from './redis/link.js'
