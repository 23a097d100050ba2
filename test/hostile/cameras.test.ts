// Hostile cameras: upstreams that answer wrong, go quiet, drip, lie about lengths or send pages instead of
// images. Each is logged with why and retried later and later; no viewer sees a byte of it, and the app stays up.
import type net from 'node:net'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { createLiveSource, relay, RELAYED_TYPES, type RelayOptions } from '../../lib/index.js'
import { eventually, startApp } from '../helpers/app.js'
import { FAST, rawServer, relayApp } from '../helpers/upstream.js'
import { partsOf, RawClient } from '../helpers/wire-client.js'

/** The parts a relay's viewer got that are not offline parts: a relay whose upstream fails is offline, and its
 * viewers get the route's offline part (X-Offline) from the first failure on. */
function cameraParts (viewer: RawClient): number {
  return (viewer.response()?.multipart.parts ?? []).filter((part) => part.headers['x-offline'] === undefined).length
}

const jpegs = [1, 2, 3].map((i) => readFileSync(new URL(`../../example-app/frames/thumb_${i}.jpg`, import.meta.url)))

t.test('each upstream failure is logged with why, and retried; the app and the viewer stay up', async (t) => {
  // The timeout cases shorten that timeout alone: every other case fails on its own before any default one.
  const cases: Array<[string, (socket: net.Socket) => void, RegExp, RelayOptions?]> = [
    ['a 503', (socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'), /upstream answered 503 Service Unavailable/],
    ['not multipart', (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nxx'), /not a multipart stream \(Content-Type: image\/jpeg\)/],
    ['no Content-Type', (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxx'), /not a multipart stream \(Content-Type: none\)/],
    ['never answering', () => {}, /no response within 300 ms/, { headersTimeoutMs: 300 }],
    ['silent after the head', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n'), /upstream sent nothing for 300 ms/, { idleTimeoutMs: 300 }],
    // A byte every 20 ms: the socket is never idle, but no part ever completes.
    ['dripping one part', (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n')
      const drip = setInterval(() => socket.write('x'), 20)
      socket.on('close', () => clearInterval(drip))
    }, /upstream sent \d+ bytes in 300 ms but no frame to relay/, { idleTimeoutMs: 300 }],
    // Whole parts, but none the relay may pass on: not progress either.
    ['only parts of types not allowed', (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n')
      const pages = setInterval(() => socket.write('--b\r\nContent-Type: text/html\r\n\r\n<p>page</p>\r\n'), 20)
      socket.on('close', () => clearInterval(pages))
    }, /upstream sent \d+ bytes in 300 ms but no frame to relay/, { idleTimeoutMs: 300 }],
    ['malformed', (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n--b\r\nno header\r\n\r\n'), /header line has no name/],
    // Then quiet, the connection kept open: the cut frame must not go out while the relay waits for more.
    ['a Content-Length 10 bytes short', (socket) => socket.write(Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n--b\r\nContent-Length: ${(jpegs[0] as Buffer).length - 10}\r\n\r\n`),
      jpegs[0] as Buffer, Buffer.from('\r\n--b\r\n')
    ])), /Content-Length \(\d+\) does not match its body/],
    ['ending the stream', (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n--b--\r\n'), /upstream ended the stream/]
  ]
  for (const [name, serve, why, timeouts] of cases) {
    const { port: upstreamPort, heads } = await rawServer(t, serve)
    const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, ...timeouts })
    const viewer = await RawClient.get(port, '/relay')
    await eventually(() => logged('server push relay: upstream failed').length >= 2)
    t.match(String((logged('server push relay: upstream failed')[0]?.err as { message: string }).message), why, name)
    t.ok(heads.length >= 2, `${name}: tried again`)
    t.equal(viewer.ended, false)
    t.same(cameraParts(viewer), 0, `${name}: nothing of the camera's reached the viewer`)
    viewer.destroy()
  }
})

t.test('an upstream part of a type the relay does not allow (a page, a script) reaches no viewer, and is logged once', async (t) => {
  const part = (type: string, body: Buffer | string): Buffer => Buffer.concat([Buffer.from(`--b\r\nContent-Type: ${type}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')])
  const page = '<script>fetch("/admin", { method: "POST" })</script>'
  const { port: upstreamPort } = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n')
    socket.write(Buffer.concat([part('image/jpeg', jpegs[0] as Buffer), part('text/html', page), part('application/javascript', page),
      part('IMAGE/JPEG; q=1', jpegs[1] as Buffer), part('image/jpeg', jpegs[2] as Buffer), Buffer.from('--b\r\n')]))
  })
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`)
  const viewer = await RawClient.get(port, '/relay')
  await viewer.until(() => viewer.response()?.multipart.parts.some((part) => part.body.equals(jpegs[2] as Buffer)) === true)
  const parts = viewer.response()?.multipart.parts ?? []
  t.ok(parts.every((part) => jpegs.some((jpeg) => jpeg.equals(part.body))), 'only the images, the one typed IMAGE/JPEG; q=1 too')
  t.ok(parts.every((part) => /^image\/jpeg/i.test(part.headers['content-type'] ?? '')), 'each with its image type')
  t.equal(logged('server push relay: part of a type not allowed, skipped (and any more on this connection)').length, 1)
  t.match(logged('server push relay: part of a type not allowed, skipped (and any more on this connection)')[0], { contentType: 'text/html' })
  viewer.destroy()
  // Widened on purpose: the page goes through.
  const { port: widePort } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, types: [...RELAYED_TYPES, 'text/html'], maxFps: Infinity })
  const wide = await RawClient.get(widePort, '/relay')
  await wide.until(() => wide.response()?.multipart.parts.some((part) => part.body.toString() === page) === true)
  t.pass('types: [...RELAYED_TYPES, \'text/html\'] relays the page')
  wide.destroy()
})

t.test('a boundary RFC 2046 forbids (12,000 characters, periodic, over matching bytes) is refused at once with why; a viewer of another route keeps getting frames', async (t) => {
  const boundary = 'a--'.repeat(4000)
  const { port: upstreamPort, heads } = await rawServer(t, (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=${boundary}\r\n\r\n`)
    // Bytes that match the delimiter over and over, never followed by a line end: the worst case of a search.
    socket.write(`--${'a--'.repeat(300_000)}`)
  })
  const side = createLiveSource({ timestamps: false })
  const { port, logged } = await startApp(t, {
    contentType: 'text/plain',
    routes: [{ path: '/relay', source: relay(`http://127.0.0.1:${upstreamPort}/`, FAST) }, { path: '/side', source: side }]
  })
  const viewer = await RawClient.get(port, '/relay')
  const onTheSide = await RawClient.get(port, '/side')
  await eventually(() => logged('server push relay: upstream failed').length >= 2)
  const failure = logged('server push relay: upstream failed')[0]
  t.match(failure?.err, { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message: /the boundary is 12000 characters long; RFC 2046 allows at most 70/ })
  t.ok(heads.length >= 2, 'tried again')
  for (let i = 1; i <= 3; i++) {
    side.publish(`side ${i}`)
    await onTheSide.parts(i)
  }
  t.same(cameraParts(viewer), 0, 'nothing of the camera\'s reached the relay\'s viewer')
  viewer.destroy()
  onTheSide.destroy()
})

t.test('an upstream that answers with Content-Encoding: the relay asked for identity, refuses it and says why', async (t) => {
  const stream = Buffer.concat([Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), jpegs[0] as Buffer, Buffer.from('\r\n--b\r\n')])
  const { port: upstreamPort, heads } = await rawServer(t, (socket) => {
    const body = gzipSync(stream)
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`)
    socket.write(body)
  })
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { ...FAST, idleTimeoutMs: 300 })
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => logged('server push relay: upstream failed').length >= 2)
  t.match(heads[0], /\r\nAccept-Encoding: identity\r\n/i)
  t.match(logged('server push relay: upstream failed')[0]?.err, { message: /upstream sent Content-Encoding: gzip; the relay asked for identity and reads only unencoded streams/ })
  t.same(cameraParts(viewer), 0)
  viewer.destroy()
  // Identity said out loud is no encoding.
  const { port: plainPort } = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\nContent-Encoding: Identity\r\n\r\n')
    socket.write(stream)
  })
  const { port: relayPort } = await relayApp(t, `http://127.0.0.1:${plainPort}/`)
  const plain = await RawClient.get(relayPort, '/relay')
  await plain.parts(1)
  t.ok(partsOf(plain)[0]?.body.equals(jpegs[0] as Buffer))
  plain.destroy()
})

t.test('one good part then garbage, on every connection: the backoff keeps growing, as the connection never proved healthy', async (t) => {
  const { port: upstreamPort, heads } = await rawServer(t, (socket) => {
    socket.end(Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n'),
      jpegs[0] as Buffer, Buffer.from('\r\n--b\r\nno header\r\n\r\n')
    ]))
  })
  const { port, logged } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`, { retryDelayMs: 100, maxRetryDelayMs: 10_000 })
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => logged('server push relay: upstream failed').length >= 4)
  const waits = logged('server push relay: upstream failed').map((line) => line.retryInMs as number)
  // Each wait is drawn between half and all of 100 ms doubled once per failure in a row.
  t.ok(waits.slice(0, 4).every((wait, i) => wait >= 50 * 2 ** i && wait <= 100 * 2 ** i), `waits double: ${waits.join(', ')} ms`)
  t.equal(heads.length, waits.length, 'the upstream counted one connection per failure')
  await viewer.parts(1)
  t.ok(partsOf(viewer)[0]?.body.equals(jpegs[0] as Buffer), 'the good part was relayed')
  viewer.destroy()
})

t.test('a flood of tiny parts (100,000 in one write): cut after maxPartsPerSecond, logged with why, retried later', async (t) => {
  const { port: upstreamPort, heads } = await rawServer(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\n\r\n')
    socket.write('--b\r\nContent-Type: image/jpeg\r\n\r\nabcd\r\n'.repeat(100_000))
  })
  const started = performance.now()
  const { port, logged, stats } = await relayApp(t, `http://127.0.0.1:${upstreamPort}/`)
  const viewer = await RawClient.get(port, '/relay')
  await eventually(() => logged('server push relay: upstream failed').length >= 2)
  t.match(logged('server push relay: upstream failed')[0]?.err, { message: /upstream sent more than 1000 parts within a second/ })
  t.ok(heads.length >= 2, 'tried again')
  const { framesPublished = 0, framesCapped = 0 } = stats()['/relay'] ?? {}
  const connections = heads.length
  // The relay takes at most 1000 parts in any second of a connection, and each connection's last second may be a
  // started one: on a machine slow enough that 1000 parts take over a second, it takes more before the cut, but
  // never more than that.
  const seconds = Math.ceil((performance.now() - started) / 1000)
  const taken = framesPublished + framesCapped
  t.ok(taken <= 1000 * (seconds + connections), `at most 1000 parts a second from ${connections} connections in ${seconds} s: ${framesPublished} published, ${framesCapped} capped`)
  t.ok(partsOf(viewer).length < 1000, `the viewer got ${partsOf(viewer).length} parts`)
  viewer.destroy()
})
