// The classic server-push demo on Fastify: ten thumbnails cycled once a second, and a live HTML clock.
// Run it with `npm start`; PORT and HOST choose where it listens (default 127.0.0.1:3000).
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import serverPush, { fromDirectory } from 'fastify-server-push'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

const clockPage = () => `<!doctype html>
<html><head><meta charset="utf-8"><title>Server push clock</title></head>
<body><h3>${new Date().toISOString()}</h3><p>Each second the server pushes this page again.</p></body></html>`

const app = Fastify({ logger: true })
await app.register(fastifyStatic, { root: here('./public') })
await app.register(serverPush, {
  routes: [
    { path: '/video.mjpg', source: fromDirectory(here('./frames')), intervalMs: 1000, contentType: 'image/jpeg' },
    { path: '/clock', source: clockPage, intervalMs: 1000, contentType: 'text/html; charset=utf-8' }
  ]
})

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.log.info({ signal }, 'closing')
    app.close().then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'close failed')
      process.exit(1)
    })
  })
}

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
