// Compiled against the built package (dist/cjs/*.d.ts) as a CommonJS user sees it; must type-check as it is.
import Fastify = require('fastify')
import push = require('fastify-server-push')

const app = Fastify()
app.register(push.serverPush, { routes: [{ path: '/clock', source: () => 'tick', intervalMs: 1000, contentType: 'text/html' }] })
app.register(push.default, { routes: [{ path: '/video.mjpg', source: push.fromFiles(['a.jpg']) }] })
const options: push.ServerPushOptions = { routes: [{ path: '/x', source: () => Buffer.from('x') }] }
app.register(push.serverPush, options)

app.register(push.serverPush, {})
// A function source: the route option's types come from whichever build this program saw first, and its
// LiveSource class is another than the CommonJS one (a user has one build only; esm-consumer covers live ones).
app.get('/cam.mjpg', { serverPush: { source: () => 'x', maxFps: 5 } }, async () => {})
// @ts-expect-error the route option needs a source
app.get('/bad', { serverPush: { maxFps: 5 } }, async () => {})

import node = require('fastify-server-push/node')
const handler: node.PushHandler = node.createPushHandler({ source: ({ request }) => request.url ?? '', contentType: 'text/plain' })
handler.close().catch(() => {})
