// The same demo as server.js on Express 5, with fastify-server-push/node: each push route is an Express route
// handler. Run it with `node example-app/express.js` (after `npm run build`); PORT, HOST and SIGNING_KEY as for
// server.js.
import { once } from 'node:events'
import express from 'express'
import { createPushHandler, createSnapshotHandler, createViewScriptHandler } from 'fastify-server-push/node'
import { registerMetrics } from 'fastify-server-push/metrics'
import { register } from 'prom-client'
import { closeOnSignals, here, logEvents, ready, routes, signedPage, signedUrl, signingKey } from './demo.js'

// The handlers log warnings and errors; this is where they go.
const log = {
  debug () {},
  info: (obj, msg) => console.log(JSON.stringify(typeof obj === 'object' ? { ...obj, msg } : { msg: obj })),
  warn: (obj, msg) => console.warn(msg ?? obj, obj),
  error: (obj, msg) => console.error(msg ?? obj, obj)
}
// Before the handlers are made, so that their events are all logged and counted: the metrics go on prom-client's
// default registry, which GET /metrics serves to Prometheus.
logEvents(log)
registerMetrics()
const app = express()
app.get('/metrics', async (_req, res) => { res.type(register.contentType).send(await register.metrics()) })
if (signingKey !== undefined) {
  for (const [path, name] of [['/', 'index.html'], ['/index.html', 'index.html'], ['/wall.html', 'wall.html']]) {
    app.get(path, async (_req, res) => { res.type('html').set('Cache-Control', 'no-store').send(await signedPage(name)) })
  }
}
app.use(express.static(here('./public')))
app.get('/signed-url', (req, res) => {
  const url = signedUrl(req.query.path)
  if (url === undefined) return res.status(400).json({ message: 'path must be one of this app\'s streams or snapshots' })
  res.type('text/plain').set('Cache-Control', 'no-store').send(url)
})
// The <push-view> script the pages load, as the Fastify plugin serves it by itself.
app.get('/push-view.js', createViewScriptHandler())
const handlers = []
const pushHandlers = {}
for (const { path, snapshot, ...options } of routes) {
  const push = createPushHandler({ ...options, name: path, log, signingKeys: signingKey })
  await push.ready
  handlers.push(push)
  pushHandlers[path] = push
  app.get(path, push)
  if (snapshot !== undefined) {
    const still = createSnapshotHandler({ source: options.source, log, name: snapshot, signingKeys: signingKey })
    handlers.push(still)
    app.get(snapshot, still)
  }
}
app.get('/push-status', (_req, res) => {
  res.json(Object.fromEntries(Object.entries(pushHandlers).map(([path, push]) => [path, push.stats()])))
})
// A request the handlers refuse (a bad ?fps=, an unsigned URL: 403) comes here with its code and status.
app.use((err, _req, res, _next) => {
  const statusCode = err.statusCode ?? 500
  res.status(statusCode).json({ statusCode, code: err.code, message: err.message })
})

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1')
await once(server, 'listening')
const { address, port } = server.address()
log.info(ready, 'live route ready')
log.info(`Server listening at http://${address}:${port}`)
// Streams never end by themselves: end them well-formed first, then the server can close.
closeOnSignals(log, async () => {
  await Promise.all(handlers.map((handler) => handler.close()))
  await new Promise((resolve) => server.close(resolve))
})
