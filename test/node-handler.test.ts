// fastify-server-push/node on its own terms: Express middleware in front of a push route, errors handed to
// Express or answered by the handler, its options, and close() on shutdown. (The stream, framing, lifecycle
// and live tests run against these handlers too: see test/servers/.)
import { once } from 'node:events'
import http, { type RequestListener } from 'node:http'
import express from 'express'
import t, { type Test } from 'tap'
import { createLiveSource, createPushHandler, createSnapshotHandler, fromFiles, liveFrom, type PushHandler } from '../lib/node.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { QUIET } from './helpers/quiet-log.js'
import { RawClient } from './helpers/wire-client.js'

async function serve (t: Test, listener: RequestListener): Promise<number> {
  const server = http.createServer(listener)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return (server.address() as { port: number }).port
}

const text = (body: string) => () => [body]

t.test('Express: middleware in front runs first, its headers go out with the stream, a refusal starts nothing', async (t) => {
  let calls = 0
  const app = express()
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', 'https://example.test')
    if (req.headers.authorization === 'Bearer ok') return next()
    res.status(401).json({ error: 'who are you?' })
  })
  const push = createPushHandler({ source: () => { calls++; return ['x'] }, contentType: 'text/plain', log: QUIET })
  app.get('/cam/:id', push)
  const port = await serve(t, app)
  const refused = await fetch(`http://127.0.0.1:${port}/cam/1`)
  t.equal(refused.status, 401)
  t.equal(calls, 0)
  const res = await (await RawClient.get(port, '/cam/1', { headers: ['Authorization: Bearer ok'] })).end()
  t.equal(res.headers['access-control-allow-origin'], 'https://example.test')
  t.equal(res.headers['content-type']?.startsWith('multipart/x-mixed-replace;boundary='), true)
  t.equal(res.multipart.parts[0]?.body.toString(), 'x')
  t.equal(push.stats().partsSent, 1)
})

t.test('Express: a source function gets Express\'s request, params and all', async (t) => {
  const app = express()
  app.get('/cam/:id', createPushHandler<express.Request>({ source: ({ request }) => [`camera ${request.params.id}`], contentType: 'text/plain', log: QUIET }))
  const port = await serve(t, app)
  t.equal((await (await RawClient.get(port, '/cam/7')).end()).multipart.parts[0]?.body.toString(), 'camera 7')
})

t.test('errors: handed to Express\'s error handlers with their code; answered as JSON without a next', async (t) => {
  const app = express()
  const seen: unknown[] = []
  const push = createPushHandler({ source: text('x'), log: QUIET })
  app.get('/x', push)
  app.use((error: { statusCode: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    seen.push(error)
    res.status(error.statusCode).end()
  })
  const expressPort = await serve(t, app)
  t.equal((await fetch(`http://127.0.0.1:${expressPort}/x?framing=fast`)).status, 400)
  t.match(seen, [{ code: 'FST_SERVER_PUSH_BAD_FRAMING', statusCode: 400 }])

  const plainPort = await serve(t, (req, res) => push(req, res))
  const res = await fetch(`http://127.0.0.1:${plainPort}/x?framing=standard&framing=advance`)
  t.equal(res.status, 400)
  t.same(await res.json(), { statusCode: 400, code: 'FST_SERVER_PUSH_BAD_FRAMING', error: 'Bad Request', message: 'framing must be standard or advance, got 2 values' })
})

t.test('Express: a text/html route opened as a page by Chromium gets the reader page; Firefox gets the stream', async (t) => {
  const app = express()
  app.get('/clock', createPushHandler({ source: () => '<p>tick</p>', contentType: 'text/html', intervalMs: 1000, log: QUIET }))
  const port = await serve(t, app)
  const page = await RawClient.get(port, '/clock', { headers: ['Sec-Fetch-Dest: document', 'User-Agent: Mozilla/5.0 Chrome/140.0'] })
  const reader = await page.end()
  t.match(reader.head, /^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/html; charset=utf-8\r\n/i)
  t.match(reader.body.toString(), /<script>[^]*fetch\(/, 'the reader page, which fetches the stream')
  const firefox = await RawClient.get(port, '/clock', { headers: ['Sec-Fetch-Dest: document', 'User-Agent: Mozilla/5.0 Firefox/140.0'] })
  t.equal((await firefox.parts(1)).multipart.parts[0]?.body.toString(), '<p>tick</p>', 'Firefox renders the stream itself')
  firefox.destroy()
})

t.test('files: a request before they are read waits for them; files that cannot be read fail ready and every request', async (t) => {
  const good = createPushHandler({ source: fromFiles([new URL('./fixtures/colours/red.jpg', import.meta.url).pathname]), log: QUIET })
  const errors: unknown[] = []
  const bad = createPushHandler({ source: fromFiles(['/nonexistent/a.jpg']), name: '/bad', log: { ...QUIET, error: (obj) => errors.push(obj) } })
  await t.rejects(bad.ready, { code: 'FST_SERVER_PUSH_INVALID_SOURCE', message: /\/bad: fromFiles/ })
  const port = await serve(t, (req, res) => (req.url === '/good' ? good : bad)(req, res))
  const early = await RawClient.get(port, '/good')
  t.equal((await early.parts(1)).multipart.parts[0]?.headers['content-type'], 'image/jpeg')
  early.destroy()
  const res = await fetch(`http://127.0.0.1:${port}/bad`)
  t.equal(res.status, 500)
  t.match(await res.json(), { statusCode: 500, code: 'FST_SERVER_PUSH_INVALID_SOURCE' })
  t.match(errors, [{ err: { code: 'FST_SERVER_PUSH_INVALID_SOURCE' } }], 'a server error is logged')
})

t.test('a request target that is no URL (//[) is served, not a crash', async (t) => {
  const push = createPushHandler({ source: text('x'), contentType: 'text/plain', log: QUIET })
  const port = await serve(t, push)
  const res = await (await RawClient.open(port, 'GET //[?framing=advance HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).end()
  t.equal(res.statusLine, 'HTTP/1.1 200 OK')
  t.same(res.multipart.parts.map((part) => part.body.toString()), ['x', 'x'])
  t.same(res.multipart.parts[0]?.rawHeaders, ['Content-Type: text/plain'], 'its ?framing= was read')
})

t.test('close(): streams end well-formed, new requests get 503, snapshot requests stop waiting', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const push = createPushHandler({ source: live, contentType: 'text/plain', boundary: 'B', log: QUIET })
  // A source that never publishes: its snapshot request waits past the test's patience unless close() wakes it.
  const still = createSnapshotHandler({ source: createLiveSource(), snapshotTimeoutMs: 2 * PATIENCE_MS, log: QUIET })
  let arrived: () => void = () => {}
  const stillArrived = new Promise<void>((resolve) => { arrived = resolve })
  const port = await serve(t, (req, res) => {
    if (req.url !== '/still') return push(req, res)
    still(req, res)
    arrived()
  })
  const viewer = await RawClient.get(port, '/live')
  await viewer.opened()
  live.publish('last')
  await viewer.parts(1)
  const waiting = fetch(`http://127.0.0.1:${port}/still`, { signal: AbortSignal.timeout(PATIENCE_MS) })
  await stillArrived
  const latest = createSnapshotHandler({ source: live, log: QUIET })
  const latestPort = await serve(t, (req, res) => latest(req, res))
  await Promise.all([push.close(), still.close(), latest.close()])
  const closingSnapshot = await fetch(`http://127.0.0.1:${latestPort}/`)
  t.equal(await closingSnapshot.text(), 'last', 'a snapshot with a frame is still answered')
  t.equal(closingSnapshot.headers.get('connection'), 'close', 'and closes its connection')
  const ended = await viewer.end()
  t.ok(ended.multipart.closed, 'the close delimiter')
  t.same(ended.multipart.parts.map((part) => part.body.toString()), ['last', 'last'])
  t.equal((await fetch(`http://127.0.0.1:${port}/live`)).status, 503)
  const woken = await waiting
  t.equal(woken.status, 503, 'the waiting snapshot request is answered at once')
  t.equal(woken.headers.get('connection'), 'close')
})

t.test('options are checked when the handler is made, naming the factory and the field', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const make = (options: unknown): PushHandler => createPushHandler(options as Parameters<typeof createPushHandler>[0])
  t.throws(() => make(null), { code, message: /createPushHandler\(\): options must be an object with a source/ })
  t.throws(() => make({ source: 'frames/' }), { code, message: /createPushHandler\(\): source must be a function/ })
  t.throws(() => make({ source: text('x'), path: '/x' }), { code, message: /unknown option "path"/ })
  t.throws(() => make({ source: text('x'), maxFps: 0 }), { code, message: /maxFps must be a finite number > 0/ })
  t.throws(() => make({ source: text('x'), log: 'console' }), { code, message: /log must be a logger/ })
  t.throws(() => make({ source: text('x'), name: 5 }), { code, message: /name must be a string/ })
  t.throws(() => make({ source: text('x'), producerStopTimeoutMs: -1 }), { code, message: /producerStopTimeoutMs must be/ })
  const snapshot = (options: unknown): unknown => createSnapshotHandler(options as Parameters<typeof createSnapshotHandler>[0])
  t.throws(() => snapshot({ source: text('x') }), { code, message: /createSnapshotHandler\(\): snapshot needs a live source \(createLiveSource\(\), .*, redisSource\(\)\)/ })
  t.throws(() => snapshot({ source: createLiveSource(), snapshotTimeoutMs: -1 }), { code, message: /snapshotTimeoutMs must be/ })
  t.throws(() => snapshot({ source: createLiveSource(), contentType: 'jpeg' }), { code, message: /contentType must be a media type/ })
})

t.test('without a log option, warnings and errors go to the console, a message alone as it is', async (t) => {
  const errors = t.capture(console, 'error')
  const warnings = t.capture(console, 'warn')
  const push = createPushHandler({ source: () => { throw new Error('camera on fire') } })
  const camera = createPushHandler({
    source: liveFrom(async function * ({ log, signal }) {
      log.warn('camera warming up')
      yield 'frame'
      await new Promise((resolve) => signal.addEventListener('abort', resolve))
    }),
    contentType: 'text/plain'
  })
  const port = await serve(t, (req, res) => (req.url === '/camera' ? camera : push)(req, res))
  await (await RawClient.get(port, '/')).end()
  t.match(errors(), [{ args: ['server push source failed', { err: { message: 'camera on fire' } }] }])
  const viewer = await RawClient.get(port, '/camera')
  await viewer.parts(1)
  viewer.destroy()
  t.same(warnings().map((call) => call.args), [['camera warming up']])
  await camera.close()
})

t.test('a handler closed before its files are read answers 503 once they are', async (t) => {
  const push = createPushHandler({ source: fromFiles([new URL('./fixtures/colours/red.jpg', import.meta.url).pathname]), log: QUIET })
  await push.close()
  await push.ready
  const port = await serve(t, (req, res) => push(req, res))
  const res = await fetch(`http://127.0.0.1:${port}/`)
  t.equal(res.status, 503)
  t.match(await res.json(), { message: 'Server is closing' })
})

t.test('a source that closes its own route while it makes a frame: the stream ends well-formed, that frame is not sent after the close', async (t) => {
  let calls = 0
  const push: PushHandler = createPushHandler({
    source: () => {
      // The first frame is made as the stream opens; the third call closes the route, then returns a frame.
      if (++calls === 3) push.close().catch(() => {})
      return `frame ${calls}`
    },
    contentType: 'text/plain',
    boundary: 'B',
    log: QUIET
  })
  const port = await serve(t, push)
  const client = await RawClient.get(port, '/')
  const { multipart } = await client.end()
  t.equal(multipart.closed, true)
  t.equal(multipart.epilogue.toString('latin1'), '\r\n', 'nothing after the close delimiter')
  t.same(multipart.parts.map((part) => part.body.toString()), ['frame 1', 'frame 2', 'frame 2'], 'the last part sent is repeated, and no other')
})
