// Compiled against the built package (dist/esm/*.d.ts) as an ESM user sees it; must type-check as it is.
import Fastify from 'fastify'
import serverPush, { createLiveSource, FST_SERVER_PUSH_FRAME_TOO_LARGE, fromDirectory, liveFrom, readMultipart, serverPush as named, splitJpegs, type Frame, type FramingChoice, type RouteStats, type ServerPushOptions, type SourceFunction } from 'fastify-server-push'

const app = Fastify()
const clock: SourceFunction = () => `<h3>${new Date().toISOString()}</h3>`
const frames: Frame[] = [Buffer.from([0xff, 0xd8]), new Uint8Array(2), 'text', { body: 'x', contentType: 'text/html', headers: { 'X-A': '1' } }]
const options: ServerPushOptions = {
  prefix: '/push',
  routes: [
    { path: '/clock', source: clock, intervalMs: 1000, contentType: 'text/html' },
    { path: '/video.mjpg', source: fromDirectory('./frames'), intervalMs: 1000, contentType: 'image/jpeg' },
    { path: '/list', source: () => frames },
    { path: '/count', source: async function * ({ signal }) { for (let i = 0; !signal.aborted; i++) yield `<p>${i}</p>` }, intervalMs: 250 }
  ]
}
await app.register(serverPush, options)
await app.register(named, options)

const live = createLiveSource({ timestamps: false })
live.publish(Buffer.from([0xff, 0xd8]))
live.publish({ body: 'x', contentType: 'text/plain' })
const camera = liveFrom(async function * ({ signal }) { while (!signal.aborted) yield Buffer.alloc(1) }, { lingerMs: 1000 })
await app.register(serverPush, {
  statusPath: '/status',
  maxFps: 10,
  framing: 'auto',
  routes: [{ path: '/live', source: live, snapshot: '/live.jpg', maxClients: 5, stallTimeoutMs: 0, idleRepeatMs: 0 }, { path: '/cam', source: camera, framing: 'standard' }]
})
app.get('/route-option.mjpg', { serverPush: { source: live, maxFps: 5 }, schema: { querystring: { type: 'object' } } }, async () => {})
app.post('/ingest', { serverPushIngest: { source: live, auth: 'anonymous', maxFrameBytes: 1024 * 1024 } }, async () => {})
app.get('/route-option.jpg', { serverPushSnapshot: { source: live, snapshotTimeoutMs: 100 } }, async (request, reply) => {
  if (request.headers.authorization === undefined) return reply.code(401).send()
})
const stats: RouteStats | undefined = app.serverPush.stats()['/live']
const repeated: number | undefined = stats?.partsRepeated
const framing: FramingChoice = 'advance'
async function relayParts (body: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0
  for await (const part of readMultipart(body, 'myboundary', { maxPartBytes: 1 << 20 })) bytes += part.body.length + (part.headers['content-type']?.length ?? 0)
  for await (const jpeg of splitJpegs(body, { maxFrameBytes: 1 << 20 })) bytes += jpeg.length
  return bytes
}
const viewers: number | undefined = stats?.viewers
const tooLarge: boolean = new Error('x') instanceof FST_SERVER_PUSH_FRAME_TOO_LARGE
// @ts-expect-error internals of a live source are not part of its type
live.acquire()
// @ts-expect-error a live source's counts are read-only
live.framesRefused = 0

// @ts-expect-error intervalMs is a number
const badInterval: ServerPushOptions = { routes: [{ path: '/x', source: clock, intervalMs: '5' }] }
// @ts-expect-error a source is a function or a file source
const badSource: ServerPushOptions = { routes: [{ path: '/x', source: 'frames/' }] }
// @ts-expect-error a frame is bytes, a string or { body }
const badFrame: Frame = 42
// @ts-expect-error framing is auto, standard or advance
const badFraming: ServerPushOptions = { routes: [{ path: '/x', source: clock, framing: 'fast' }] }
export { badInterval, badSource, badFrame, badFraming, framing, relayParts, repeated, tooLarge, viewers }
