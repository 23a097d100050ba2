// Compiled against the built package (dist/esm/*.d.ts) as an ESM user sees it; must type-check as it is.
import Fastify from 'fastify'
import serverPush, { fromDirectory, serverPush as named, type Frame, type ServerPushOptions, type SourceFunction } from 'fastify-server-push'

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

// @ts-expect-error intervalMs is a number
const badInterval: ServerPushOptions = { routes: [{ path: '/x', source: clock, intervalMs: '5' }] }
// @ts-expect-error a source is a function or a file source
const badSource: ServerPushOptions = { routes: [{ path: '/x', source: 'frames/' }] }
// @ts-expect-error a frame is bytes, a string or { body }
const badFrame: Frame = 42
export { badInterval, badSource, badFrame }
