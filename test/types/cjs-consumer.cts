// Compiled against the built package (dist/cjs/*.d.ts) as a CommonJS user sees it; must type-check as it is.
import Fastify = require('fastify')
import push = require('fastify-server-push')

const app = Fastify()
app.register(push.serverPush, { routes: [{ path: '/clock', source: () => 'tick', intervalMs: 1000, contentType: 'text/html' }] })
app.register(push.default, { routes: [{ path: '/video.mjpg', source: push.fromFiles(['a.jpg']) }] })
const options: push.ServerPushOptions = { routes: [{ path: '/x', source: () => Buffer.from('x') }] }
app.register(push.serverPush, options)

// @ts-expect-error routes is required
app.register(push.serverPush, {})
