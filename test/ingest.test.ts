// Ingest routes: real ffmpeg publishing (`-f mpjpeg` over HTTP, chunked, no Content-Type) while viewers of a push
// route on the same source read the same bytes; refusals (auth, busy, type, method), a raw JPEG publisher, a
// stalled one and garbage, on Fastify and on node:http, each parsed as it came over the wire.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import http, { type IncomingMessage, type Server } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import pino from 'pino'
import t from 'tap'
import serverPush, { createLiveSource, fromCommand, liveFrom, relay, subscribeEvent, type IngestOptions, type LiveSource } from '../lib/index.js'
import { createIngestHandler, createPushHandler } from '../lib/node.js'
import { eventually, timerCount, type LogLine } from './helpers/app.js'
import { partsOf, RawClient, type ParsedPart } from './helpers/wire-client.js'

const AUTH = { username: 'user', password: 'pa:ss' }
const BASIC = `Basic ${Buffer.from('user:pa:ss').toString('base64')}`

/** Three small JPEGs, each different, as ffmpeg writes them concatenated. */
const jpegs = execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-frames:v', '3', '-f', 'mjpeg', '-'])
const JPEGS: Buffer[] = []
for (let at = 0; at < jpegs.length;) {
  const end = jpegs.indexOf(Buffer.from([0xff, 0xd9]), at) + 2
  JPEGS.push(jpegs.subarray(at, end))
  at = end
}

interface Served { port: number, logs: LogLine[], close: () => Promise<void> }

type Kind = 'fastify' | 'node'

/** An app with a push route (GET /stream) and an ingest route (POST, PUT /ingest) on one source. */
async function serve (kind: Kind, source: LiveSource, ingest: Omit<IngestOptions, 'source'>): Promise<Served> {
  const logs: LogLine[] = []
  const stream = { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } }
  if (kind === 'fastify') {
    const app = Fastify({ logger: { level: 'info', stream } })
    await app.register(serverPush)
    app.get('/stream', { serverPush: { source } }, async () => {})
    app.route({ method: ['POST', 'PUT'], url: '/ingest', serverPushIngest: { source, ...ingest }, handler: async () => {} })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    return { port, logs, close: () => app.close() }
  }
  const log = pino({ level: 'info' }, stream)
  const push = createPushHandler({ source, log, name: '/stream' })
  const receive = createIngestHandler({ source, log, name: '/ingest', ...ingest })
  const server: Server = http.createServer((req, res) => { (req.url === '/ingest' ? receive : push)(req, res) })
  server.requestTimeout = 0
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  return {
    port,
    logs,
    close: async () => {
      await receive.close()
      await push.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

interface Answer { status: number, headers: IncomingMessage['headers'], body: string }

/** A publisher: POSTs `chunks` (then ends, unless `hold`); resolves with the answer, or the error that cut it. */
function publish (port: number, headers: Record<string, string>, chunks: Array<string | Buffer>, { hold = false, method = 'POST' } = {}): { answer: Promise<Answer | Error>, request: http.ClientRequest } {
  const request = http.request({ port, host: '127.0.0.1', path: '/ingest', method, headers })
  const answer = new Promise<Answer | Error>((resolve) => {
    request.on('error', resolve)
    request.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', resolve)
    })
  })
  for (const chunk of chunks) request.write(chunk)
  if (!hold) request.end()
  return { answer, request }
}

async function answered (port: number, headers: Record<string, string>, chunks: Array<string | Buffer> = [], method = 'POST'): Promise<Answer> {
  const answer = await publish(port, headers, chunks, { method }).answer
  if (answer instanceof Error) throw answer
  return answer
}

const frames = (parts: readonly ParsedPart[]): ParsedPart[] => parts.filter((part) => part.headers['x-offline'] === undefined)
const offline = (parts: readonly ParsedPart[]): boolean => parts.some((part) => part.headers['x-offline'] !== undefined)
/** Whether the offline part came after the last frame: the publisher has gone. */
const offlineAfterFrames = (parts: readonly ParsedPart[]): boolean => {
  const last = parts.findLastIndex((part) => part.headers['x-offline'] === undefined)
  return last !== -1 && offline(parts.slice(last + 1))
}

for (const kind of ['fastify', 'node'] as const) {
  t.test(`${kind}: ffmpeg publishes while three viewers read the same bytes; a second publisher is refused`, async (t) => {
    const source = createLiveSource()
    const { port, logs, close } = await serve(kind, source, { auth: AUTH })
    t.teardown(close)
    const viewers = await Promise.all([0, 1, 2].map(() => RawClient.get(port, '/stream')))
    const ffmpeg = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '3',
      '-f', 'mpjpeg', '-method', 'POST', '-auth_type', 'basic', `http://user:pa%3Ass@127.0.0.1:${port}/ingest`], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    ffmpeg.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = once(ffmpeg, 'exit')
    await eventually(() => viewers.every((viewer) => frames(partsOf(viewer)).length >= 5), 'five frames for each viewer')
    const busy = await answered(port, { Authorization: BASIC, 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer])
    t.equal(busy.status, 409)
    t.equal(JSON.parse(busy.body).code, 'FST_SERVER_PUSH_INGEST_BUSY')
    const [code] = await exited
    t.equal(code, 0, stderr)
    await eventually(() => viewers.every((viewer) => offlineAfterFrames(partsOf(viewer))), 'the offline part for each viewer')
    // Every frame is ffmpeg's JPEG, and a frame two viewers got (by its timestamp) is the same bytes.
    const byStamp = new Map<string, Buffer>()
    let shared = 0
    for (const viewer of viewers) {
      for (const part of frames(partsOf(viewer))) {
        t.equal(part.body.subarray(0, 2).toString('hex'), 'ffd8')
        const stamp = part.headers['x-timestamp'] as string
        const seen = byStamp.get(stamp)
        if (seen === undefined) byStamp.set(stamp, part.body)
        else if (seen.equals(part.body)) shared++
        else t.fail(`two viewers got different bytes for the frame of ${stamp}`)
      }
    }
    t.ok(shared >= 10, `frames shared by viewers: ${shared}`)
    const ended = logs.find((line) => line.msg === 'server push ingest: publisher ended')
    t.ok(ended !== undefined && (ended.frames as number) >= 5, JSON.stringify(logs.filter((line) => /ingest/.test(line.msg))))
    for (const viewer of viewers) viewer.destroy()
  })

  t.test(`${kind}: an auth function that throws: a coded 500, and the connection closed under an endless body`, async (t) => {
    const source = createLiveSource()
    const { port, logs, close } = await serve(kind, source, { auth: async () => { throw new Error('auth down') } })
    t.teardown(close)
    const endless = publish(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer], { hold: true })
    const answer = await endless.answer
    if (answer instanceof Error) throw answer
    t.equal(answer.status, 500)
    t.same(JSON.parse(answer.body), { statusCode: 500, code: 'FST_SERVER_PUSH_INGEST_AUTH_FAILED', error: 'Internal Server Error', message: 'The ingest route could not check the credentials: its auth function failed' })
    t.equal(answer.headers.connection, 'close')
    // The publisher still sending, the server has closed the connection: nothing more of the body is read.
    await eventually(() => endless.request.socket?.destroyed === true, 'the connection closed')
    t.ok(logs.some((line) => line.msg === 'server push ingest: auth failed' && /auth down/.test(JSON.stringify(line.err))))
    t.equal(source.published, 0)
  })

  t.test(`${kind}: viewers who come before the first publisher get the offline part, then its frames`, async (t) => {
    const source = createLiveSource()
    const { port, close } = await serve(kind, source, { auth: 'anonymous' })
    t.teardown(close)
    const early = await RawClient.get(port, '/stream')
    await eventually(() => partsOf(early).length === 1, 'a first part before any publisher')
    t.ok(offline(partsOf(early)), 'it is the offline part')
    const raw = await answered(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer])
    t.same([raw.status, JSON.parse(raw.body)], [200, { frames: 1 }])
    await eventually(() => offlineAfterFrames(partsOf(early)), 'the frame, then the offline part')
    t.same(frames(partsOf(early)).map((part) => part.body.toString('hex')), [(JPEGS[0] as Buffer).toString('hex')])
    early.destroy()
  })

  t.test(`${kind}: refusals: no or wrong credentials, a type, a method, the options`, async (t) => {
    const source = createLiveSource()
    const { port, close } = await serve(kind, source, { auth: AUTH })
    t.teardown(close)
    const none = await answered(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer])
    t.equal(none.status, 401)
    t.equal(none.headers['www-authenticate'], 'Basic realm="server push ingest", charset="UTF-8"')
    // Fastify's own error shape, whichever server answers.
    t.same(JSON.parse(none.body), { statusCode: 401, code: 'FST_SERVER_PUSH_INGEST_UNAUTHORIZED', error: 'Unauthorized', message: 'Unauthorized: this ingest route needs credentials' })
    t.equal(none.headers.connection, 'close')
    const wrong = await answered(port, { Authorization: `Basic ${Buffer.from('user:nope').toString('base64')}` }, [JPEGS[0] as Buffer])
    t.equal(wrong.status, 401)
    const text = await answered(port, { Authorization: BASIC, 'Content-Type': 'text/plain' }, ['hello'])
    t.equal(text.status, 415)
    t.equal(JSON.parse(text.body).code, 'FST_SERVER_PUSH_INGEST_TYPE')
    const noBoundary = await answered(port, { Authorization: BASIC, 'Content-Type': 'multipart/x-mixed-replace' }, ['--x\r\n'])
    t.equal(noBoundary.status, 415)
    t.equal(source.published, 0)
    if (kind === 'node') {
      const get = await answered(port, { Authorization: BASIC }, [], 'DELETE')
      t.equal(get.status, 405)
      t.equal(get.headers.allow, 'POST, PUT')
      t.same(JSON.parse(get.body), { statusCode: 405, error: 'Method Not Allowed', message: 'An ingest route takes POST or PUT' })
      t.throws(() => createIngestHandler({ source } as unknown as IngestOptions), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /auth is required/ })
      t.throws(() => createIngestHandler({ source, auth: { username: 'a:b', password: 'c' } }), { code: 'FST_SERVER_PUSH_INVALID_OPTION' })
      t.throws(() => createIngestHandler({ source, auth: { username: 'a', password: '' } }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /a password not empty/ })
      t.throws(() => createIngestHandler({ source, auth: { username: 'a', password: 'b', realm: 'x' } as unknown as IngestOptions['auth'] }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /unknown option "realm"/ })
      t.throws(() => createIngestHandler({ source: {} as LiveSource, auth: 'anonymous' }), { message: /ingest needs a live source/ })
      // A source with a producer of its own would have two feeders.
      for (const fed of [liveFrom(async function * () {}), fromCommand('ffmpeg'), relay('http://127.0.0.1:9/cam')]) {
        t.throws(() => createIngestHandler({ source: fed, auth: 'anonymous' }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /has a producer of its own/ })
      }
      t.throws(() => createIngestHandler({ source, auth: 'anonymous', idleTimeoutMs: 0 }), { message: /idleTimeoutMs/ })
      t.throws(() => createIngestHandler({ source, auth: 'anonymous', types: ['nope'] }), { message: /types/ })
      t.throws(() => createIngestHandler(null as unknown as IngestOptions), { code: 'FST_SERVER_PUSH_INVALID_OPTION' })
      // Made with neither a log nor a name: the console's logger and a name of its own, and it takes a publisher.
      const bare = createIngestHandler({ source: createLiveSource(), auth: 'anonymous' })
      const server = http.createServer((req, res) => { bare(req, res) }).listen(0, '127.0.0.1')
      await once(server, 'listening')
      const answer = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: JPEGS[0] })
      t.same(await answer.json(), { frames: 1 }, 'a handler with the defaults')
      await bare.close()
      server.close()
    } else {
      const app = Fastify()
      await app.register(serverPush)
      t.throws(() => app.post('/in0', { serverPushIngest: 'x' as unknown as IngestOptions }, async () => {}), { message: /must be an object with a live source and auth/ })
      t.throws(() => app.get('/in', { serverPushIngest: { source, auth: 'anonymous' } }, async () => {}), { message: /POST and PUT only/ })
      t.throws(() => app.post('/in2', { serverPushIngest: { source, auth: 'anonymous' }, serverPush: { source } }, async () => {}), { message: /cannot be set with/ })
      t.throws(() => app.post('/in3', { serverPushIngest: { source, auth: 'anonymous', nope: 1 } as unknown as IngestOptions }, async () => {}), { message: /unknown option "nope"/ })
      t.throws(() => app.post('/in4', { serverPushIngest: { source: fromCommand('ffmpeg'), auth: 'anonymous' } }, async () => {}), { message: /has a producer of its own/ })
      await app.close()
    }
  })

  t.test(`${kind}: a publisher that stalls is cut after idleTimeoutMs; its viewers see its frame, then the offline part`, async (t) => {
    const source = createLiveSource()
    // The one route with a short idle timeout: its publisher stalls on purpose.
    const { port, logs, close } = await serve(kind, source, { auth: 'anonymous', idleTimeoutMs: 200 })
    t.teardown(close)
    const viewer = await RawClient.get(port, '/stream')
    // One frame, then nothing; cut after idleTimeoutMs (the log says so).
    const stalled = publish(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer], { hold: true })
    await eventually(() => logs.some((line) => line.msg === 'server push ingest: publisher cut' && /no whole frame for 200 ms/.test(JSON.stringify(line.err))), 'the stalled publisher cut')
    await eventually(() => {
      const parts = partsOf(viewer)
      const stalledFrame = parts.findIndex((part) => part.body.equals(JPEGS[0] as Buffer))
      return stalledFrame !== -1 && offline(parts.slice(stalledFrame + 1))
    }, 'the stalled publisher\'s frame, then the offline part')
    await stalled.answer
    viewer.destroy()
  })

  t.test(`${kind}: a raw JPEG publisher, garbage, and close; nothing left behind`, async (t) => {
    const source = createLiveSource()
    // A publisher is the source's producer: it starts, stops when its body ends, fails when it is cut.
    const heard: string[] = []
    const unsubscribe = ['start', 'stop', 'fail'].map((what) => subscribeEvent(`fastify-server-push:source:${what as 'start'}`, (message) => {
      if (message.source === source) heard.push(what)
    }))
    t.teardown(() => { for (const off of unsubscribe) off() })
    const timers = timerCount()
    const { port, logs, close } = await serve(kind, source, { auth: (req) => req.headers.authorization === BASIC, maxFrameBytes: 64 * 1024 })
    const viewer = await RawClient.get(port, '/stream')
    // Concatenated JPEGs with no type, sent in pieces that cut frames anywhere; PUT.
    const raw = await answered(port, { Authorization: BASIC }, [jpegs.subarray(0, 100), jpegs.subarray(100, 1000), jpegs.subarray(1000)], 'PUT')
    t.same([raw.status, JSON.parse(raw.body)], [200, { frames: 3 }])
    t.same(heard, ['start', 'stop'])
    await eventually(() => offlineAfterFrames(partsOf(viewer)), 'the offline part after the publisher ended')
    t.same(frames(partsOf(viewer)).map((part) => part.body.toString('hex')), JPEGS.map((jpeg) => jpeg.toString('hex')))
    // Garbage: a part of a type not allowed, a frame too large, no multipart at all.
    const html = await answered(port, { Authorization: BASIC, 'Content-Type': 'multipart/x-mixed-replace; boundary=x' }, ['--x\r\nContent-Type: text/html\r\n\r\n<script></script>\r\n--x\r\n'])
    t.equal(html.status, 400)
    t.match(JSON.parse(html.body), { code: 'FST_SERVER_PUSH_BAD_INGEST', message: /text\/html/ })
    t.same(heard, ['start', 'stop', 'start', 'fail'])
    const large = await answered(port, { Authorization: BASIC, 'Content-Type': 'multipart/mixed; boundary=x' }, ['--x\r\n\r\n', Buffer.alloc(70 * 1024), '\r\n--x--\r\n'])
    t.equal(large.status, 400)
    const broken = await answered(port, { Authorization: BASIC, 'Content-Type': 'application/octet-stream' }, ['--x\r\nContent-Type: image/jpeg\r\n\r\nnot a jpeg and no end'])
    t.equal(broken.status, 400)
    t.match(JSON.parse(broken.body).message, /ended in the middle of a part/)
    const cut = await answered(port, { Authorization: BASIC, 'Content-Type': 'multipart/x-mixed-replace;boundary=x' }, ['--x\r\nContent-Ty'])
    t.match(JSON.parse(cut.body).message, /in the middle of a part's headers/)
    // Parts with no type and empty ones pass; a body that is not multipart and holds no JPEG publishes nothing.
    const untyped = await answered(port, { Authorization: BASIC, 'Content-Type': 'multipart/x-mixed-replace;boundary=y' }, ['--y\r\n\r\n\r\n--y\r\n\r\n', JPEGS[1] as Buffer, '\r\n--y--\r\n'])
    t.same(JSON.parse(untyped.body), { frames: 1 })
    await eventually(() => partsOf(viewer).some((part) => part.body.equals(JPEGS[1] as Buffer) && part.headers['content-type'] === 'image/jpeg'), 'the untyped JPEG, as image/jpeg')
    // A part with no type that is no whole JPEG (a script, a JPEG cut short) cuts the publisher; nothing of it is shown.
    const published = source.published
    for (const body of ['<script>alert(1)</script>', (JPEGS[1] as Buffer).subarray(0, 200)]) {
      const script = await answered(port, { Authorization: BASIC, 'Content-Type': 'multipart/x-mixed-replace;boundary=y' }, ['--y\r\n\r\n', body, '\r\n--y--\r\n'])
      t.equal(script.status, 400)
      t.match(JSON.parse(script.body), { code: 'FST_SERVER_PUSH_BAD_INGEST', message: /no Content-Type that is not a whole JPEG/ })
    }
    t.equal(source.published, published)
    for (const body of ['', '-x', '\r\n-', `--${'z'.repeat(200)}`, '--\r\n', '\r\n'.repeat(100)]) {
      const nothing = await answered(port, { Authorization: BASIC }, [body])
      t.same([nothing.status, JSON.parse(nothing.body)], [200, { frames: 0 }], JSON.stringify(body))
    }
    // Close with a publisher live: it is cut, and the server closes.
    const connected = (): number => logs.filter((line) => line.msg === 'server push ingest: publisher connected').length
    const before2 = connected()
    const live = publish(port, { Authorization: BASIC, 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer], { hold: true })
    await eventually(() => connected() > before2, 'the last publisher connected')
    viewer.destroy()
    await close()
    await live.answer
    t.ok(logs.some((line) => /the server is closing/.test(JSON.stringify(line.err))))
    await eventually(() => timerCount() <= timers, 'no timer left')
  })
}

t.test('anonymous, said in so many words; too many parts; a closed source', async (t) => {
  const source = createLiveSource()
  const { port, logs, close } = await serve('node', source, { auth: 'anonymous', maxPartsPerSecond: 2 })
  t.teardown(close)
  // Two parts, a second's pause (the count starts over), two more: within the limit.
  const paced = publish(port, { 'Content-Type': 'multipart/x-mixed-replace;boundary=x' }, ['--x\r\n\r\n\r\n'.repeat(2)], { hold: true })
  await eventually(() => logs.some((line) => line.msg === 'server push ingest: publisher connected'), 'the paced publisher connected')
  // The count started right after that line was logged, in the same turn: a second from now is a second of it,
  // however late the line was seen.
  const from = performance.now()
  await eventually(() => performance.now() - from >= 1000, 'a second of the count')
  paced.request.end('--x\r\n\r\n\r\n--x\r\n\r\n\r\n--x--\r\n')
  t.same(await paced.answer, { status: 200, headers: (await paced.answer as Answer).headers, body: '{"frames":0}' })
  const many = await answered(port, { 'Content-Type': 'multipart/x-mixed-replace;boundary=x' }, ['--x\r\n\r\n\r\n'.repeat(5)])
  t.match(JSON.parse(many.body), { code: 'FST_SERVER_PUSH_BAD_INGEST', message: /more than 2 parts within a second/ })
  // The source closed under a live publisher: its next frame is refused, and so is it.
  const live = publish(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer], { hold: true })
  await eventually(() => source.published === 1, 'the first frame published')
  source.close()
  live.request.end(JPEGS[1])
  t.match(JSON.parse((await live.answer as Answer).body), { code: 'FST_SERVER_PUSH_BAD_INGEST', message: /closed/ })
  const closed = await answered(port, {}, [JPEGS[0] as Buffer])
  t.equal(closed.status, 503)
  t.same(JSON.parse(closed.body), { statusCode: 503, error: 'Service Unavailable', message: 'The ingest route is closing' })
})

t.test('a publisher whose start throws (a logger that fails) leaves the source free for the next one', async (t) => {
  const source = createLiveSource()
  let failures = 1
  const log = {
    debug () {},
    info (_: unknown, message?: string) {
      if (message === 'server push ingest: publisher connected' && failures-- > 0) throw new Error('log sink down')
    },
    warn () {},
    error () {}
  }
  const receive = createIngestHandler({ source, auth: 'anonymous', log })
  const server = http.createServer((req, res) => { receive(req, res) }).listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  const first = await answered(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[0] as Buffer])
  t.match([first.status, JSON.parse(first.body)], [400, { code: 'FST_SERVER_PUSH_BAD_INGEST', message: /log sink down/ }])
  const next = await answered(port, { 'Content-Type': 'image/jpeg' }, [JPEGS[1] as Buffer])
  t.same([next.status, JSON.parse(next.body)], [200, { frames: 1 }], 'not 409: the source was given back')
})

t.test('Express 5: an ingest route mounted with app.post(); an auth function that throws is answered by the route', async (t) => {
  const source = createLiveSource()
  const app = express()
  let handed: unknown
  app.post('/ingest', createIngestHandler({ source, auth: (req) => { if (req.headers['x-fail'] !== undefined) throw new Error('auth down'); return req.headers.authorization === BASIC }, log: pino({ level: 'silent' }) }))
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    handed = error
    res.status(500).end()
  })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  const raw = await answered(port, { Authorization: BASIC }, [jpegs])
  t.same([raw.status, JSON.parse(raw.body)], [200, { frames: 3 }])
  t.equal(source.published, 3)
  const failed = await answered(port, { 'X-Fail': '1' }, ['x'])
  t.match([failed.status, failed.headers.connection, JSON.parse(failed.body)], [500, 'close', { code: 'FST_SERVER_PUSH_INGEST_AUTH_FAILED' }])
  t.equal(handed, undefined, 'answered by the route, not handed to next()')
})
