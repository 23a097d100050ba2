// The camera of the Redis scenario: a live source fed at `fps` with prebuilt frames, published to the channel
// that the redis-viewer instances show. Starts when its parent says 'produce' (as the servers, see serve() in
// common.mjs), stops when it says 'stop'.
import { createLiveSource } from 'fastify-server-push'
import { publishToRedis } from 'fastify-server-push/redis'
import { capture, every, makeFrames, settings } from '../common.mjs'

const { fps, size, count, redisUrl } = settings()
const frames = makeFrames(size, count)
const live = createLiveSource()
const publisher = publishToRedis(live, { url: redisUrl, channel: 'bench' })
let stop = () => {}
process.on('message', async (message) => {
  if (message === 'produce') {
    stop = every(fps, (n) => live.publish(capture(frames, n)))
    return
  }
  stop()
  await publisher.close()
  process.send({ framesSent: publisher.framesSent, framesDropped: publisher.framesDropped }, () => process.exit(0))
})
process.send('ready')
