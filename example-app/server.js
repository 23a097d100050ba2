// The classic server-push demo on Fastify (see demo.js for what it shows): the thumbnails, the HTML clock (which
// Chromium, unable to show pushed HTML itself, gets through the plugin's reader page) and the live camera, each
// an ordinary Fastify route with the `serverPush` option. Run it with `npm start`; PORT and HOST choose where it
// listens (default 127.0.0.1:3000). With TLS_CERT and TLS_KEY (PEM files) it serves HTTPS, HTTP/2 and HTTP/1.1 on
// one port: /wall.html, twelve views of the live camera, needs HTTP/2 (browsers open at most 6 HTTP/1.1
// connections to a host). With SIGNING_KEY (see demo.js) every stream and snapshot needs a signed URL, and the
// pages are served with signed ones. example-app/express.js is the same app on Express 5, without TLS.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import serverPush from 'fastify-server-push'
import { registerMetrics } from 'fastify-server-push/metrics'
import { register } from 'prom-client'
import { closeOnSignals, here, logEvents, ready, routes, signedPage, signedUrl, signingKey } from './demo.js'

const { TLS_CERT, TLS_KEY } = process.env
const tls = TLS_CERT !== undefined && TLS_KEY !== undefined
  ? { http2: true, https: { cert: readFileSync(TLS_CERT), key: readFileSync(TLS_KEY), allowHTTP1: true } }
  : {}
const app = Fastify({ logger: true, ...tls })
// Before the routes open, so that their events are all logged and counted: the metrics go on prom-client's
// default registry, which GET /metrics serves to Prometheus.
logEvents(app.log)
registerMetrics()
app.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()))
await app.register(fastifyStatic, { root: here('./public') })
// The key, when there is one, is every push and snapshot route's default.
await app.register(serverPush, { statusPath: '/push-status', signingKeys: signingKey })
if (signingKey !== undefined) {
  for (const [path, name] of [['/', 'index.html'], ['/index.html', 'index.html'], ['/wall.html', 'wall.html']]) {
    app.get(path, async (_request, reply) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(await signedPage(name)))
  }
}
// What the views' refresh-src asks for: a fresh URL of one of the app's routes.
app.get('/signed-url', async (request, reply) => {
  const url = signedUrl(request.query.path)
  if (url === undefined) return reply.code(400).send({ message: 'path must be one of this app\'s streams or snapshots' })
  return reply.type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(url)
})
for (const { path, snapshot, ...options } of routes) {
  // The handler runs before each stream: it could refuse one (answer 403, say); here every viewer is welcome.
  app.get(path, { serverPush: options }, async () => {})
  if (snapshot !== undefined) app.get(snapshot, { serverPushSnapshot: { source: options.source } }, async () => {})
}
app.log.info(ready, 'live route ready')
closeOnSignals(app.log, () => app.close())
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
