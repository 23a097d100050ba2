// Snapshots of a live source: its latest frame as one plain response, a wait for the first one, and answers at
// once when the source or the server closes.
import t from 'tap'
import { createLiveSource, liveFrom } from '../lib/index.js'
import { hubOf } from '../lib/core/live/source.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { RawClient } from './helpers/wire-client.js'

t.test('snapshot: waits for a first frame, answers the latest with its type, length and no-cache headers', async (t) => {
  const live = createLiveSource()
  let arrived: () => void = () => {}
  const requested = new Promise<void>((resolve) => { arrived = resolve })
  const { port } = await startApp(t, {
    routes: [{ path: '/video.mjpg', source: live, snapshot: '/video.jpg', headers: { 'Access-Control-Allow-Origin': '*' } }]
  }, { before: () => { setImmediate(arrived) } })
  const early = fetch(`http://127.0.0.1:${port}/video.jpg`)
  await requested
  live.publish(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))
  const first = await early
  t.equal(first.status, 200)
  t.same([...new Uint8Array(await first.arrayBuffer())], [0xff, 0xd8, 0xff, 0xd9])
  live.publish({ body: 'png!', contentType: 'image/png', headers: { 'X-Frame': '2' } })
  const res = await fetch(`http://127.0.0.1:${port}/video.jpg`)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'image/png')
  t.equal(res.headers.get('content-length'), '4')
  t.equal(res.headers.get('cache-control'), 'no-cache, no-store, must-revalidate, no-transform')
  t.equal(res.headers.get('pragma'), 'no-cache')
  t.equal(res.headers.get('x-content-type-options'), 'nosniff', 'no browser takes it for another type')
  t.equal(res.headers.get('access-control-allow-origin'), '*')
  t.equal(res.headers.get('x-frame'), '2', 'the frame\'s own headers too')
  t.match(res.headers.get('x-timestamp'), /^\d+\.\d{6}$/)
  t.equal(await res.text(), 'png!')
})

t.test('snapshot: a request line naming HTTP/2.0 on an HTTP/1 connection, or HTTP/0.9, is answered 505 and closed', async (t) => {
  const live = createLiveSource()
  live.publish('frame')
  const { port, close } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg' }] })
  for (const [request, version] of [['GET /v.jpg HTTP/2.0\r\nHost: x\r\n\r\n', '2.0 on an HTTP/1 connection'], ['GET /v.jpg\r\n\r\n', '0.9']] as const) {
    const client = await RawClient.open(port, request)
    await client.until(() => client.ended)
    const text = client.data.toString('latin1')
    t.match(text, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/, version)
    t.ok(text.includes(`got HTTP/${version}`), version)
  }
  await close()
})

t.test('snapshot before any frame: 503 after snapshotTimeoutMs', async (t) => {
  const { port } = await startApp(t, { routes: [{ path: '/v', source: createLiveSource(), snapshot: '/v.jpg', snapshotTimeoutMs: 30 }] })
  const res = await fetch(`http://127.0.0.1:${port}/v.jpg`)
  t.equal(res.status, 503)
  t.equal(res.headers.get('retry-after'), '1')
  t.match(await res.json(), { message: 'No frame has been published yet' })
})

t.test('snapshot of a closed source with no frame: 503 at once', async (t) => {
  const live = createLiveSource()
  live.close()
  const { port } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg', snapshotTimeoutMs: 60_000 }] })
  t.equal((await fetch(`http://127.0.0.1:${port}/v.jpg`)).status, 503)
})

t.test('snapshot waiting when the source closes: answered at once', async (t) => {
  const live = createLiveSource()
  const { port } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg', snapshotTimeoutMs: 60_000 }] })
  const waiting = fetch(`http://127.0.0.1:${port}/v.jpg`)
  // The request is in the handler, waiting, once it holds the source.
  await eventually(() => hubOf(live).demand === 1)
  live.close()
  t.equal((await waiting).status, 503)
})

t.test('liveFrom: a snapshot alone starts the producer', async (t) => {
  const source = liveFrom(async function * ({ signal }) { yield 'snap'; await aborted(signal) })
  const { port } = await startApp(t, { routes: [{ path: '/cam', source, snapshot: '/cam.jpg', contentType: 'text/plain' }] })
  const res = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
  t.equal(await res.text(), 'snap')
})

t.test('a snapshot still waiting when the app closes is answered at once, and close() does not wait for it', async (t) => {
  const live = createLiveSource()
  const { close, port } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg', snapshotTimeoutMs: 60_000 }] })
  const waiting = fetch(`http://127.0.0.1:${port}/v.jpg`)
  // The request is in the handler, waiting, once it holds the source.
  await eventually(() => hubOf(live).demand === 1)
  const closing = close()
  const res = await waiting
  t.equal(res.status, 503)
  t.equal(res.headers.get('connection'), 'close')
  await closing
})

t.test('a snapshot request still in its hooks when the app starts closing is answered at once on arrival', async (t) => {
  let arrived: () => void = () => {}
  const inHook = new Promise<void>((resolve) => { arrived = resolve })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const { close, port } = await startApp(t, { routes: [{ path: '/v', source: createLiveSource(), snapshot: '/v.jpg', snapshotTimeoutMs: 2 * PATIENCE_MS }] }, {
    // An auth check still running when close() begins.
    before: async () => { arrived(); await released },
    // Lets the request on only once the routes have been told to close.
    closing: release
  })
  // Waited for with the usual patience: a request left waiting for its timeout fails here.
  const waiting = fetch(`http://127.0.0.1:${port}/v.jpg`, { signal: AbortSignal.timeout(PATIENCE_MS) })
  await inHook
  const closing = close()
  const res = await waiting
  t.equal(res.status, 503, 'not held for snapshotTimeoutMs')
  t.equal(res.headers.get('connection'), 'close')
  await closing
})

t.test('a frame carries labels only (X-… and Last-Modified) onto its part and snapshot: any other header is refused by name, wherever the frame comes from', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const acting = ['Set-Cookie', 'Transfer-Encoding', 'Cache-Control', 'X-Content-Type-Options', 'Refresh', 'Clear-Site-Data',
    'Content-Encoding', 'Content-Security-Policy', 'Access-Control-Allow-Origin', 'Location', 'X-Frame-Options',
    'x-forwarded-for', 'X-Accel-Redirect', 'X-', 'Content-Disposition']
  for (const name of acting) {
    t.throws(() => live.publish({ body: 'x', headers: { [name]: '1' } }), {
      code: 'FST_SERVER_PUSH_BAD_FRAME',
      message: new RegExp(`part header ${name} is not one a frame may carry: only X-… names .* and Last-Modified`)
    }, name)
  }
  t.throws(() => live.publish({ body: 'x', headers: { 'Content-Type': 'text/html' } }), { message: /part header Content-Type is set by the plugin; use contentType/ })
  t.equal(live.published, 0, 'none of them was published')
  const { port, logged } = await startApp(t, {
    contentType: 'image/png',
    routes: [
      { path: '/v', source: live, snapshot: '/v.png' },
      // A function source's frames are checked by the same rule.
      { path: '/pulled', source: () => [{ body: 'x', headers: { 'X-Seq': '1', 'Set-Cookie': 'a=1' } }] }
    ]
  })
  live.publish({ body: 'png!', headers: { 'X-Frame': '1', 'X-Seq': '9', 'Last-Modified': 'Tue, 01 Jul 2025 00:00:00 GMT' } })
  const res = await fetch(`http://127.0.0.1:${port}/v.png`)
  t.equal(res.headers.get('x-frame'), '1')
  t.equal(res.headers.get('x-seq'), '9')
  t.equal(res.headers.get('last-modified'), 'Tue, 01 Jul 2025 00:00:00 GMT')
  t.equal(res.headers.get('cache-control'), 'no-cache, no-store, must-revalidate, no-transform')
  t.equal(await res.text(), 'png!')
  const pulled = await (await RawClient.get(port, '/pulled')).end()
  t.ok(pulled.multipart.closed, 'the function source\'s stream ended')
  t.notOk(pulled.multipart.parts.some((part) => part.body.toString() === 'x'), 'without its frame')
  await eventually(() => logged('server push source failed').length === 1)
  t.match(logged('server push source failed')[0]?.err, { code: 'FST_SERVER_PUSH_BAD_FRAME', message: /part header Set-Cookie is not one a frame may carry/ })
})
