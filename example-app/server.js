// The classic server-push demo on Fastify (see demo.js for what it shows): the thumbnails, the HTML clock (which
// Chromium, unable to show pushed HTML itself, gets through the plugin's reader page) and the live camera, each
// an ordinary Fastify route with the `serverPush` option. Run it with `npm start`; PORT and HOST choose where it
// listens (default 127.0.0.1:3000). example-app/express.js is the same app on Express 5.
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import serverPush from 'fastify-server-push'
import { closeOnSignals, here, ready, routes } from './demo.js'

const app = Fastify({ logger: true })
await app.register(fastifyStatic, { root: here('./public') })
await app.register(serverPush, { statusPath: '/push-status' })
for (const { path, snapshot, ...options } of routes) {
  // The handler runs before each stream: it could refuse one (answer 403, say); here every viewer is welcome.
  app.get(path, { serverPush: options }, async () => {})
  if (snapshot !== undefined) app.get(snapshot, { serverPushSnapshot: { source: options.source } }, async () => {})
}
app.log.info(ready, 'live route ready')
closeOnSignals(app.log, () => app.close())
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
