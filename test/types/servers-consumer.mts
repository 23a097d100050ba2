// Compiled against the built package as a user of each server the README names writes it, without a cast: the
// Fastify plugin on Fastify's HTTP/1 and HTTP/2 servers, and fastify-server-push/node's handlers under Express 5,
// node:http, node:https, and node:http2 with and without TLS.
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import express from 'express'
import Fastify from 'fastify'
import serverPush, { createLiveSource } from 'fastify-server-push'
import { createPushHandler, createSnapshotHandler, type PushHandler, type RouteHandler, type SourceFunction } from 'fastify-server-push/node'

const camera = createLiveSource()
const tls = { key: 'key.pem', cert: 'cert.pem' }

const app = Fastify()
await app.register(serverPush, { maxFps: 10 })
app.get('/cam.mjpg', { serverPush: { source: camera } }, async () => {})
app.get('/cam.jpg', { serverPushSnapshot: { source: camera } }, async () => {})
const h2c = Fastify({ http2: true })
await h2c.register(serverPush, { maxFps: 10 })
h2c.get('/cam.mjpg', { serverPush: { source: camera } }, async () => {})
const h2 = Fastify({ http2: true, https: { ...tls, allowHTTP1: true } })
await h2.register(serverPush, { routes: [{ path: '/cam.mjpg', source: camera, snapshot: '/cam.jpg' }] })
h2.get('/cam', { serverPushSnapshot: { source: camera } }, async (request, reply) => {
  if (request.headers.authorization === undefined) return reply.code(401).send()
})
const stats: number | undefined = h2.serverPush.stats()['/cam.mjpg']?.viewers

const push: PushHandler = createPushHandler({ source: camera, maxFps: 10 })
const still: RouteHandler = createSnapshotHandler({ source: camera })
const agent: SourceFunction = ({ request }) => `<p>${request.headers['user-agent'] ?? ''}</p>`
const page = createPushHandler({ source: agent, contentType: 'text/html' })

const site = express()
site.get('/cam.mjpg', push)
site.get('/cam.jpg', still)
// A source that reads what Express adds gets Express's request.
site.get('/cam/:id', createPushHandler<express.Request>({ source: ({ request }) => `<p>${request.params.id ?? ''}</p>` }))

const servers = [
  http.createServer(push),
  http.createServer(site),
  http.createServer((req, res) => { still(req, res) }),
  https.createServer(tls, push),
  https.createServer(tls, (req, res) => { page(req, res) }),
  http2.createServer(push),
  http2.createServer((req, res) => { still(req, res) }),
  http2.createSecureServer(tls, push),
  http2.createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => { page(req, res) })
]
// @ts-expect-error a handler typed for Express's requests cannot take node:http2's
http2.createServer(createPushHandler<express.Request>({ source: camera }))
await Promise.all([push.close(), still.close(), page.close()])
for (const server of servers) server.close()
export { stats }
