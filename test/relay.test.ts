// relay(): one upstream connection fanned out to every viewer, against a second app running this plugin and
// against raw node:net servers writing each camera variant. Upstreams that misbehave: test/hostile/cameras.
import https from 'node:https'
import net from 'node:net'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { createLiveSource, relay } from '../lib/index.js'
import { eventually, startApp } from './helpers/app.js'
import { FAST, rawServer, relayApp } from './helpers/upstream.js'
import { RawClient } from './helpers/wire-client.js'

const jpegs = [1, 2, 3].map((i) => readFileSync(new URL(`../example-app/frames/thumb_${i}.jpg`, import.meta.url)))

t.test('a second app running the plugin: one upstream connection, any number of viewers, the same bytes', async (t) => {
  const camera = createLiveSource()
  const upstream = await startApp(t, { routes: [{ path: '/video.mjpg', source: camera }] })
  t.equal(upstream.app.serverPush.stats()['/video.mjpg']?.viewers, 0)
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstream.port}/video.mjpg`, FAST)
  t.equal(upstream.app.serverPush.stats()['/video.mjpg']?.viewers, 0, 'no upstream connection while nobody watches')
  const viewers = await Promise.all([1, 2, 3, 4, 5].map(() => RawClient.get(port, '/relay')))
  await Promise.all(viewers.map((viewer) => viewer.opened()))
  await eventually(() => logged('server push relay connected').length === 1)
  for (const jpeg of jpegs) camera.publish(jpeg)
  for (const viewer of viewers) {
    await viewer.until(() => viewer.response()?.multipart.parts.some((part) => part.body.equals(jpegs[2] as Buffer)) === true)
    const parts = viewer.response()?.multipart.parts ?? []
    t.ok(parts.every((part) => jpegs.some((jpeg) => jpeg.equals(part.body)) && part.headers['content-type'] === 'image/jpeg'),
      'each viewer gets the frames, byte for byte, up to the newest')
  }
  t.equal(upstream.app.serverPush.stats()['/video.mjpg']?.viewers, 1, 'one upstream connection for five viewers')
  t.equal(logged('server push relay connected').length, 1, 'made once, never again')
  for (const viewer of viewers) viewer.destroy()
  await eventually(() => upstream.app.serverPush.stats()['/video.mjpg']?.viewers === 0)
})

t.test('the upstream restarting mid-stream: the relay connects again and the viewer keeps its stream', async (t) => {
  const first = createLiveSource()
  const upstream = await startApp(t, { routes: [{ path: '/video.mjpg', source: first }] })
  const upstreamPort = upstream.port
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/video.mjpg`, FAST)
  const viewer = await RawClient.get(port, '/relay')
  await viewer.opened()
  await eventually(() => logged('server push relay connected').length === 1)
  first.publish(jpegs[0] as Buffer)
  await viewer.parts(1)
  await upstream.app.close()
  await eventually(() => logged('server push relay: upstream failed').length >= 1)
  const second = createLiveSource()
  const again = await startApp(t, { routes: [{ path: '/video.mjpg', source: second }] }, { listen: upstreamPort })
  await eventually(() => again.app.serverPush.stats()['/video.mjpg']?.viewers === 1)
  second.publish(jpegs[1] as Buffer)
  await viewer.until(() => viewer.response()?.multipart.parts.some((part) => part.body.equals(jpegs[1] as Buffer)) === true)
  t.equal(viewer.ended, false)
  viewer.destroy()
})

/** What a camera writes after the request, as one string of `eol` lines and JPEG bodies. */
interface Variant { name: string, head: string, body: (jpeg: Buffer, i: number) => Buffer, chunked?: boolean }

const VARIANTS: Variant[] = [
  { name: 'Content-Length, CRLF', head: 'Content-Type: multipart/x-mixed-replace;boundary=myboundary', body: (jpeg) => Buffer.concat([Buffer.from(`--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]) },
  { name: 'no Content-Length', head: 'Content-Type: multipart/x-mixed-replace;boundary=myboundary', body: (jpeg) => Buffer.concat([Buffer.from('--myboundary\r\nContent-Type: image/jpeg\r\n\r\n'), jpeg, Buffer.from('\r\n')]) },
  { name: 'quoted boundary, leading CRLF', head: 'Content-Type: multipart/x-mixed-replace; boundary="my boundary"', body: (jpeg, i) => Buffer.concat([Buffer.from(`${i === 0 ? '\r\n' : ''}--my boundary\r\nContent-Type: image/jpeg\r\n\r\n`), jpeg, Buffer.from('\r\n')]) },
  { name: 'boundary given with --', head: 'Content-Type: multipart/x-mixed-replace;boundary=--myboundary', body: (jpeg) => Buffer.concat([Buffer.from(`--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]) },
  { name: 'LF-only lines', head: 'Content-Type: multipart/x-mixed-replace;boundary=myboundary', body: (jpeg) => Buffer.concat([Buffer.from('--myboundary\nContent-Type: image/jpeg\n\n'), jpeg, Buffer.from('\n')]) },
  { name: 'chunked transfer encoding', head: 'Content-Type: multipart/x-mixed-replace;boundary=myboundary\r\nTransfer-Encoding: chunked', chunked: true, body: (jpeg) => Buffer.concat([Buffer.from(`--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]) }
]

for (const variant of VARIANTS) {
  t.test(`a camera writing ${variant.name}: every frame relayed`, async (t) => {
    const { port: upstreamPort } = await rawServer(t, (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\n${variant.head}\r\n\r\n`)
      // One frame more: without Content-Length a part ends only when the next one begins.
      ;[...jpegs, jpegs[0] as Buffer].forEach((jpeg, i) => {
        const body = variant.body(jpeg, i)
        // Cut in two, so that no frame arrives in one piece.
        for (const piece of [body.subarray(0, 100), body.subarray(100)]) {
          socket.write(variant.chunked === true ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece)
        }
      })
    })
    // No rate cap: the frames come in one burst, and each one must be read.
    const { port } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, maxFps: Infinity })
    const viewer = await RawClient.get(port, '/relay')
    await viewer.until(() => viewer.response()?.multipart.parts.some((part) => part.body.equals(jpegs[2] as Buffer)) === true)
    const bodies = viewer.response()?.multipart.parts.map((part) => jpegs.findIndex((jpeg) => jpeg.equals(part.body)))
    t.ok(bodies?.every((index) => index >= 0), 'only whole frames')
    viewer.destroy()
  })
}

t.test('basic auth from the URL goes upstream, and neither the password nor the query reaches the log', async (t) => {
  const { port: upstreamPort, heads } = await rawServer(t, (socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'))
  const { port, logs } = await relayApp(t, `http://cam:s3cret@127.0.0.1:${upstreamPort}/video?token=t0ken`)
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => heads.length >= 2)
  t.match(heads[0], `Authorization: Basic ${Buffer.from('cam:s3cret').toString('base64')}\r\n`)
  t.match(heads[0], /^GET \/video\?token=t0ken HTTP\/1\.1\r\n/)
  t.notMatch(JSON.stringify(logs), /s3cret|t0ken/)
  t.match(JSON.stringify(logs), /cam:\*\*\*@127\.0\.0\.1:\d+\/video\?\*\*\*/)
  viewer.destroy()
})

t.test('an https: camera with its own certificate, and parts with odd headers', async (t) => {
  const tls = (name: string): Buffer => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url))
  const server = https.createServer({ key: tls('key.pem'), cert: tls('cert.pem') }, (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace;boundary=b' })
    const part = (head: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(`--b\r\n${head}\r\n`), body, Buffer.from('\r\n')])
    response.write(Buffer.concat([
      part('Content-Type: image/jpeg\r\n', jpegs[0] as Buffer),
      part('Content-Type: image/jpeg\r\n', Buffer.alloc(0)), // an empty part: nothing to show
      part('Content-Type: not a type\r\n', jpegs[1] as Buffer), // a bad type: the route's own
      part('', jpegs[2] as Buffer), // no type at all
      Buffer.from('--b\r\n')
    ]))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = await startApp(t, {
    contentType: 'image/x-route',
    routes: [{ path: '/relay', source: relay(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, { ...FAST, ca: tls('cert.pem'), maxFps: Infinity /* each part is looked at */ }) }]
  })
  const viewer = await RawClient.get(port, '/relay')
  await viewer.until(() => viewer.response()?.multipart.parts.some((part) => part.body.equals(jpegs[2] as Buffer)) === true)
  const parts = viewer.response()?.multipart.parts ?? []
  t.ok(parts.every((part) => part.body.length > 0), 'the empty part is not relayed')
  t.same(parts.map((part) => [jpegs.findIndex((jpeg) => jpeg.equals(part.body)), part.headers['content-type']]).filter(([i]) => i !== 0).slice(0, 2),
    [[1, 'image/x-route'], [2, 'image/x-route']], 'a part without a usable type gets the route\'s')
  viewer.destroy()
})

t.test('basic auth given as options wins over the URL\'s', async (t) => {
  const { port: upstreamPort, heads } = await rawServer(t, (socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'))
  const { port } = await relayApp(t, `http://cam:old@127.0.0.1:${upstreamPort}/`, { ...FAST, username: 'viewer', password: 'n3w', headers: { 'X-Camera': 'door' } })
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => heads.length >= 1)
  t.match(heads[0], `Authorization: Basic ${Buffer.from('viewer:n3w').toString('base64')}\r\n`)
  t.match(heads[0], 'X-Camera: door\r\n')
  viewer.destroy()
  const { port: userOnly } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, username: 'guest' })
  const guest = await RawClient.get(userOnly, '/relay')
  await eventually(() => heads.some((head) => head.includes(`Authorization: Basic ${Buffer.from('guest:').toString('base64')}\r\n`)))
  t.pass('a user without a password')
  guest.destroy()
})

t.test('a refused connection is retried with growing waits, up to maxRetryDelayMs', async (t) => {
  const closed = await rawServer(t, () => {})
  const deadPort = closed.port
  await new Promise<void>((resolve) => closed.server.close(() => resolve()))
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${deadPort}/`, { retryDelayMs: 20, maxRetryDelayMs: 80 })
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => logged('server push relay: upstream failed').length >= 5)
  const waits = logged('server push relay: upstream failed').map((line) => line.retryInMs as number)
  t.match(logged('server push relay: upstream failed')[0], { err: { code: 'ECONNREFUSED' } })
  t.ok(waits[0] as number >= 10 && waits[0] as number <= 20, `first wait ${waits[0]} in [10, 20]`)
  t.ok(waits.slice(3).every((wait) => wait >= 40 && wait <= 80), `later waits capped: ${waits.join(', ')}`)
  viewer.destroy()
})

t.test('relay() refuses what it cannot use', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  t.throws(() => relay('not a url'), { code, message: /relay\(\): "not a url" is not a URL/ })
  t.throws(() => relay('ftp://127.0.0.1/x'), { code, message: /must be http: or https:, got ftp:/ })
  t.throws(() => relay('http://127.0.0.1/', { idleTimeoutMs: 0 }), { message: /idleTimeoutMs must be a finite number >= 1, got 0/ })
  t.throws(() => relay('http://127.0.0.1/', { retryDelayMs: 100, maxRetryDelayMs: 10 }), { message: /maxRetryDelayMs must be a finite number >= 100/ })
  t.throws(() => relay('http://127.0.0.1/', { maxPartsPerSecond: 0 }), { message: /relay\(\): maxPartsPerSecond must be a finite number >= 1, got 0/ })
  t.throws(() => relay('http://127.0.0.1/', { maxFps: 0 }), { message: /relay\(\): maxFps must be a number >= 0.001, or Infinity for no cap, got 0/ })
  t.throws(() => relay('http://127.0.0.1/', { headers: { 'X-Camera': 'door\r\nX-Evil: 1' } }), { code, message: /relay\(\): header X-Camera has an invalid value/ })
  t.throws(() => relay('http://127.0.0.1/', { headers: { 'X Camera': 'door' } }), { code, message: /relay\(\): header name "X Camera" is not a valid HTTP token/ })
  for (const types of ['image/jpeg', ['image'], [42]]) {
    t.throws(() => relay('http://127.0.0.1/', { types: types as string[] }), { code, message: /types must be an array of media types/ }, JSON.stringify(types))
  }
})

t.test('parts spread out stay within maxPartsPerSecond however many come in all', async (t) => {
  const { port: upstreamPort } = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n')
    // A second and a half apart: never two within a second.
    let i = 0
    const send = (): void => { socket.write(Buffer.concat([Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), jpegs[i++] as Buffer, Buffer.from('\r\n')])) }
    send()
    const timer = setInterval(() => { if (i < jpegs.length) send() }, 1500)
    socket.on('close', () => clearInterval(timer))
  })
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, maxPartsPerSecond: 1 })
  const viewer = await RawClient.get(port, '/relay')
  // Without Content-Length a part ends where the next begins: the third is read once it is whole.
  await viewer.until(() => viewer.response()?.multipart.parts.some((part) => part.body.equals(jpegs[1] as Buffer)) === true)
  t.same(logged('server push relay: upstream failed'), [])
  viewer.destroy()
})

t.test('a connection that kept relaying for as long as the wait it would cost was healthy: the waits start over', async (t) => {
  const part = Buffer.concat([Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), jpegs[0] as Buffer, Buffer.from('\r\n')])
  const { port: upstreamPort } = await rawServer(t, (socket) => {
    socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n'), part]))
    // A good part 600 ms later, then garbage: up for longer than any wait of 100 or 200 ms.
    const timer = setTimeout(() => socket.end(Buffer.concat([part, Buffer.from('--b\r\nno header\r\n\r\n')])), 600)
    socket.on('close', () => clearTimeout(timer))
  })
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { retryDelayMs: 100, maxRetryDelayMs: 10_000 })
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => logged('server push relay: upstream failed').length >= 3)
  const waits = logged('server push relay: upstream failed').map((line) => line.retryInMs as number)
  t.ok(waits.every((wait) => wait >= 50 && wait <= 100), `each wait the first one again: ${waits.join(', ')} ms`)
  viewer.destroy()
})
