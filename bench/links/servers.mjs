// The servers the slow-link cases measure, all showing the same numbered frames on /live (JPEG), /html (pages)
// and /pull (JPEG made per viewer as it asks): the plugin from a built dist/ (this checkout's, or another's to
// compare before and after), and two raw latest-frame-wins servers written the shortest way that is right on a
// slow link, the bar the plugin is held to: over HTTP/1.1 a node:net server writing the newest frame when the
// socket drains; over HTTP/2 a node:http2 server sending whole parts in turn (one part in flight per session, the
// newest frame, the session's streams round robin). `lowat` sets TCP_NOTSENT_LOWAT on the raw servers' sockets;
// `queue` makes the raw HTTP/1.1 server write every frame, whatever the socket holds: the control that a
// backlog shows.
import http2 from 'node:http2'
import net from 'node:net'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import { capture, makeFrames } from '../common.mjs'
import { setNotsentLowat } from './link.mjs'

export const BOUNDARY = 'links'
const CONTENT_TYPE = `multipart/x-mixed-replace;boundary=${BOUNDARY}`
const OPENING = Buffer.from(`--${BOUNDARY}\r\n`)
const DELIMITER = Buffer.from(`\r\n--${BOUNDARY}\r\n`)
const noop = () => {}

/** Frame `seq` of a route as the plugin takes it: a new buffer each time, as a camera's, labelled with its number. */
function frameMaker (route, size) {
  const jpegs = makeFrames(size, 8)
  const page = Buffer.from(`<!doctype html><title>links</title><p>${'frame '.repeat(size)}`.slice(0, size))
  return route === 'html'
    ? (seq) => ({ body: Buffer.from(page), contentType: 'text/html', headers: { 'X-Seq': String(seq) } })
    : (seq) => ({ body: capture(jpegs, seq), contentType: 'image/jpeg', headers: { 'X-Seq': String(seq) } })
}

/** A frame's whole part, as the raw servers write it: header block, body, delimiter. */
function partBytes ({ body, contentType, headers }) {
  const head = `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nX-Seq: ${headers['X-Seq']}\r\n\r\n`
  return Buffer.concat([Buffer.from(head), body, DELIMITER])
}

/**
 * The plugin with its three routes, on Fastify over HTTP/1.1 or cleartext HTTP/2; `dist` is a build's folder
 * (default: this checkout's, by the package's name). A pull viewer says which it is in `?view=`.
 */
async function plugin ({ dist, protocol, route, fps, size, clock }) {
  const lib = await import(dist === undefined ? 'fastify-server-push' : pathToFileURL(join(dist, 'esm', 'index.js')).href)
  const make = frameMaker(route, size)
  const live = lib.createLiveSource()
  const pull = ({ request }) => make(clock.pull(Number(request.query.view)).make())
  const app = Fastify({ http2: protocol === 'http2' })
  await app.register(lib.default, {
    boundary: BOUNDARY,
    routes: [
      { path: '/live', source: live },
      { path: '/html', source: live, contentType: 'text/html' },
      { path: '/pull', source: pull, intervalMs: 1000 / fps }
    ]
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    port: app.server.address().port,
    publish: (seq) => live.publish(make(seq)),
    close: () => app.close()
  }
}

/**
 * A raw server listening on a free port of 127.0.0.1 (TCP_NOTSENT_LOWAT on its sockets if `lowat`): `publish(seq)`
 * makes the frame's part once and hands it to `deliver`, `close()` cuts its connections.
 */
async function listenRaw (server, { route, size, lowat }, deliver) {
  const make = frameMaker(route, size)
  const sockets = new Set()
  server.on('connection', (socket) => {
    if (lowat) setNotsentLowat(socket)
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: server.address().port,
    publish: (seq) => deliver({ seq, bytes: partBytes(make(seq)) }),
    close () {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    }
  }
}

/** The raw HTTP/1.1 server: each client written the newest part when its socket has drained (or every part, `queue`). */
function rawHttp1 (options) {
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${CONTENT_TYPE}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n`)
  const clients = new Set()
  let newest
  const send = (client) => {
    if (newest === undefined || client.sent === newest.seq || client.socket.writableNeedDrain) return
    client.sent = newest.seq
    client.socket.write(newest.bytes)
  }
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    socket.on('error', noop)
    socket.once('data', () => {
      const client = { socket, sent: 0 }
      clients.add(client)
      socket.on('close', () => clients.delete(client))
      socket.on('drain', () => send(client))
      socket.write(Buffer.concat([head, OPENING]))
      send(client)
    })
  })
  return listenRaw(server, options, (part) => {
    newest = part
    for (const client of clients) {
      if (options.queue) client.socket.write(part.bytes); else send(client)
    }
  })
}

/** The raw HTTP/2 server: per session one part in flight, the newest frame, to the session's streams in turn. */
function rawHttp2 (options) {
  const walls = new Set()
  let newest
  const pump = (wall) => {
    if (wall.busy || newest === undefined) return
    const { views } = wall
    for (let i = 0; i < views.length; i++) {
      const index = (wall.turn + i) % views.length
      const view = views[index]
      if (view.sent === newest.seq) continue
      wall.turn = index + 1
      wall.busy = view
      view.sent = newest.seq
      view.stream.write(newest.bytes, () => {
        if (wall.busy === view) wall.busy = undefined
        pump(wall)
      })
      return
    }
  }
  const server = http2.createServer()
  server.on('session', (session) => {
    const wall = { views: [], turn: 0, busy: undefined }
    walls.add(wall)
    session.wall = wall
    session.on('close', () => walls.delete(wall))
    session.on('error', noop)
  })
  server.on('stream', (stream) => {
    const { wall } = stream.session
    const view = { stream, sent: 0 }
    stream.on('error', noop)
    stream.on('close', () => {
      wall.views.splice(wall.views.indexOf(view), 1)
      if (wall.busy === view) wall.busy = undefined
      pump(wall)
    })
    stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE, 'cache-control': 'no-cache' })
    stream.write(OPENING)
    wall.views.push(view)
    pump(wall)
  })
  return listenRaw(server, options, (part) => {
    newest = part
    for (const wall of walls) pump(wall)
  })
}

/**
 * Starts `server` (`plugin`, or `raw`: HTTP/1.1 or HTTP/2 as `protocol` says) for `route`; resolves with its
 * port, `publish(seq)` for the live routes, and `close()`.
 */
export function startServer ({ server, protocol, ...options }) {
  if (server === 'plugin') return plugin({ protocol, ...options })
  if (options.route === 'pull') throw new Error('the raw servers show live routes only')
  return protocol === 'http2' ? rawHttp2(options) : rawHttp1(options)
}
