// Push routes over HTTP/2 (h2c and h2 over TLS), over HTTP/1.1 on the same TLS port, and over plain HTTPS:
// the same bytes as over HTTP/1.1, one stream per viewer on a shared connection, each stream ended, reset or cut
// on its own, and close() that lets the sessions go.
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import https from 'node:https'
import http2 from 'node:http2'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { createLiveSource, fromDirectory } from '../lib/index.js'
import { SESSION_BUDGET_BYTES } from '../lib/core/session-turns.js'
import { createPushHandler } from '../lib/node.js'
import { aborted, eventually, tempDir } from './helpers/app.js'
import { run } from './helpers/child.js'
import { certificate, connect, request, serve } from './helpers/protocols.js'
import { parseMultipart } from './helpers/wire-client.js'

const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']

for (const serving of ['h2c', 'h2'] as const) {
  t.test(`${serving}: the same head and part bytes as over HTTP/1.1, in either framing, ended with END_STREAM`, async (t) => {
    let headCalls = 0
    const { origin } = await serve(t, serving, {
      boundary: 'B',
      contentType: 'text/plain',
      headers: { 'X-Camera': 'porch', 'X-Lens': ['wide', 'tele'] },
      routes: [{ path: '/x', source: ({ request }) => { if (request.method === 'HEAD') headCalls++; return ['one', 'two'] } }]
    })
    const session = connect(t, origin)
    const standard = await request(session, '/x')
    await standard.ended
    t.equal(standard.headers[':status'], 200)
    t.equal(standard.headers['content-type'], 'multipart/x-mixed-replace;boundary=B')
    t.equal(standard.headers['cache-control'], 'no-cache, no-store, must-revalidate, no-transform')
    t.equal(standard.headers['x-camera'], 'porch')
    t.equal(standard.headers['x-lens'], 'wide, tele', 'a header given twice, as two fields')
    t.same(CONNECTION_SPECIFIC.filter((name) => name in standard.headers), [], 'no connection-specific field')
    const part = (body: string): string => `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    t.equal(standard.body().toString(), `--B\r\n${part('one')}\r\n--B\r\n${part('two')}\r\n--B\r\n${part('two')}\r\n--B--\r\n`)
    t.equal(standard.stream.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'closed by END_STREAM, not reset')
    const advance = await request(session, '/x?framing=advance')
    await advance.ended
    t.same(advance.parts().parts.map((p) => [p.rawHeaders, p.body.toString()]),
      [[['Content-Type: text/plain'], 'one'], [['Content-Type: text/plain'], 'two'], [['Content-Type: text/plain'], 'two']])
    t.ok(advance.parts().closed)
    const head = await request(session, '/x', 'HEAD')
    await head.ended
    t.equal(head.headers['content-type'], 'multipart/x-mixed-replace;boundary=B')
    t.equal(head.body().length, 0, 'HEAD: headers only')
    t.equal(headCalls, 0)
  })
}

t.test('h2+http1: HTTP/2 and HTTP/1.1 on one TLS port, each request served by its own protocol; plain https too', async (t) => {
  for (const serving of ['h2+http1', 'https'] as const) {
    const { origin } = await serve(t, serving, { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/x', source: () => ['one'] }] })
    const { res, body } = await new Promise<{ res: import('node:http').IncomingMessage, body: string }>((resolve, reject) => {
      https.get(`${origin}/x`, { ca: certificate().cert }, (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => { text += chunk.toString() })
        res.on('end', () => resolve({ res, body: text }))
      }).on('error', reject)
    })
    t.equal(res.httpVersion, '1.1', `${serving}: HTTP/1.1 over TLS`)
    t.equal(res.headers.connection, 'close')
    t.ok(parseMultipart(Buffer.from(body), 'B').closed)
    if (serving === 'h2+http1') {
      const h2 = await request(connect(t, origin), '/x')
      await h2.ended
      t.equal(h2.parts().parts[0]?.body.toString(), 'one', 'and HTTP/2 on the same port')
    }
  }
})

t.test('a reset stream ends at once, alone: its source stops, the other streams of its session carry on', async (t) => {
  const live = createLiveSource({ timestamps: false })
  let stopped = 0
  const { app: fastify, origin } = await serve(t, 'h2c', {
    boundary: 'B',
    contentType: 'text/plain',
    routes: [
      { path: '/live', source: live },
      { path: '/pull', source: async function * ({ signal }) { try { yield 'held'; await aborted(signal) } finally { stopped++ } } }
    ]
  })
  const session = connect(t, origin)
  const [kept, reset, pulled] = await Promise.all([request(session, '/live'), request(session, '/live'), request(session, '/pull')])
  await eventually(() => pulled.parts().parts.length === 1, 'the pull stream\'s first part')
  reset.stream.close(http2.constants.NGHTTP2_CANCEL)
  pulled.stream.close(http2.constants.NGHTTP2_CANCEL)
  await eventually(() => stopped === 1, 'the pull source stopped')
  await eventually(() => fastify.serverPush.stats()['/live']?.viewers === 1, 'one live viewer left')
  live.publish('after')
  await eventually(() => kept.parts().parts.some((p) => p.body.toString() === 'after'), 'the kept stream got the next frame')
  t.equal(session.closed, false, 'the session is still open')
})

t.test('a stream reset while its request is still in hooks starts nothing', async (t) => {
  let calls = 0
  let handled = 0
  let inHook: () => void = () => {}
  const reached = new Promise<void>((resolve) => { inHook = resolve })
  let reset: () => void = () => {}
  const wasReset = new Promise<void>((resolve) => { reset = resolve })
  const { app: fastify, origin } = await serve(t, 'h2c', { routes: [{ path: '/x', source: () => { calls++; return 'x' } }] }, (fastify) => {
    fastify.addHook('preHandler', async (request) => {
      (request.raw as unknown as http2.Http2ServerRequest).stream.once('close', reset)
      inHook()
      await wasReset
    })
    fastify.addHook('onRoute', (route) => {
      const { handler } = route
      route.handler = function (request, reply) {
        handled++
        return handler.call(this, request, reply)
      }
    })
  })
  const stream = connect(t, origin).request({ ':path': '/x' })
  stream.on('error', () => {})
  await reached
  stream.close(http2.constants.NGHTTP2_CANCEL)
  await wasReset
  await eventually(() => handled === 1, 'the push handler ran')
  t.equal(calls, 0, 'and started no source')
  t.equal(fastify.serverPush.stats()['/x']?.viewers, 0)
})

t.test('a stream whose client stops reading is cut off (RST_STREAM) after stallTimeoutMs; a new one on its session is served', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { app: fastify, origin } = await serve(t, 'h2c', { boundary: 'B', routes: [{ path: '/live', source: live, stallTimeoutMs: 300, idleRepeatMs: 0 }] })
  const session = connect(t, origin)
  const stalled = await request(session, '/live')
  stalled.stream.pause()
  // A frame bigger than the stream's flow-control window and the server's buffer: the stream makes no progress.
  live.publish(Buffer.alloc(256 * 1024, 1))
  await eventually(() => fastify.serverPush.stats()['/live']?.viewers === 0, 'the stalled stream cut off')
  // A paused client stream sees the reset only once it reads again.
  stalled.stream.resume()
  await stalled.ended
  t.equal(stalled.stream.rstCode, http2.constants.NGHTTP2_CANCEL, 'reset by the server')
  const next = await request(session, '/live')
  live.publish(Buffer.from('fresh'))
  await eventually(() => next.parts().parts.some((p) => p.body.toString() === 'fresh'), 'the new stream got a frame')
})

t.test('a stream whose client stops reading while another of its session reads on is cut off alone; the other carries on', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { app: fastify, origin } = await serve(t, 'h2c', { boundary: 'B', routes: [{ path: '/live', source: live, stallTimeoutMs: 300, idleRepeatMs: 0 }] })
  const session = connect(t, origin)
  const stalled = await request(session, '/live')
  const reading = await request(session, '/live')
  stalled.stream.pause()
  // Frames bigger than a stream's window keep coming: the session moves with the reading stream all along, which
  // is no progress of the stalled one's.
  let n = 0
  const timer = setInterval(() => live.publish(Buffer.alloc(96 * 1024, ++n % 256)), 20)
  t.teardown(() => clearInterval(timer))
  await eventually(() => fastify.serverPush.stats()['/live']?.viewers === 1, 'the stalled stream cut off')
  stalled.stream.resume()
  await stalled.ended
  t.equal(stalled.stream.rstCode, http2.constants.NGHTTP2_CANCEL, 'reset by the server')
  const before = reading.parts().parts.length
  await eventually(() => reading.parts().parts.length > before + 2, 'the reading stream gets frames still')
  t.equal(session.closed || session.destroyed, false, 'on the same session')
})

t.test('100 streams on one session, maxClients counting streams, and close() ending them all well-formed', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { app: fastify, origin } = await serve(t, 'h2c', {
    boundary: 'B',
    contentType: 'text/plain',
    routes: [{ path: '/live', source: live, maxClients: 100, snapshot: '/live.txt' }]
  })
  const session = connect(t, origin)
  const viewers = await Promise.all(Array.from({ length: 100 }, () => request(session, '/live')))
  t.equal(fastify.serverPush.stats()['/live']?.viewers, 100)
  const refused = await request(session, '/live')
  await refused.ended
  t.equal(refused.headers[':status'], 503, 'the 101st stream of the same session')
  t.equal(refused.headers['retry-after'], '1')
  t.same(CONNECTION_SPECIFIC.filter((name) => name in refused.headers), [], 'and no connection-specific field')
  live.publish('frame')
  await eventually(() => viewers.every((viewer) => viewer.parts().parts.length === 1), 'every stream got the frame')
  const snapshot = await request(session, '/live.txt')
  await snapshot.ended
  t.equal(snapshot.body().toString(), 'frame')
  const sessionClosed = once(session, 'close')
  await fastify.close()
  for (const viewer of viewers) await viewer.ended
  t.ok(viewers.every((viewer) => viewer.parts().closed && viewer.stream.rstCode === http2.constants.NGHTTP2_NO_ERROR),
    'every stream: the close delimiter, then END_STREAM')
  await sessionClosed
  t.pass('the session was told to go away, so close() did not wait for it to time out')
})

t.test('curl --http2-prior-knowledge reads the stream', async (t) => {
  const { origin } = await serve(t, 'h2c', { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/x', source: () => ['one', 'two'] }] })
  const { code, stdout, stderr } = await run('curl', ['--silent', '--show-error', '--http2-prior-knowledge', '--include', `${origin}/x`])
  t.equal(code, 0, stderr)
  t.match(stdout, /^HTTP\/2 200 ?\r\ncontent-type: multipart\/x-mixed-replace;boundary=B\r\n/)
  const body = stdout.slice(stdout.indexOf('\r\n\r\n') + 4)
  t.same(parseMultipart(Buffer.from(body, 'latin1'), 'B').parts.map((part) => part.body.toString()), ['one', 'two', 'two'])
})

t.test('ffmpeg, whose HTTP client speaks only HTTP/1.1, reads the stream over TLS from a port that serves both', async (t) => {
  const frames = new URL('../example-app/frames/', import.meta.url).pathname
  const { origin } = await serve(t, 'h2+http1', { routes: [{ path: '/video.mjpg', source: fromDirectory(frames), intervalMs: 50 }] })
  const out = tempDir('ffmpeg-tls')
  const { code, stderr } = await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-tls_verify', '1', '-ca_file', certificate().certPath,
    '-i', `${origin}/video.mjpg`, '-frames:v', '3', join(out, 'frame%d.png')])
  t.equal(code, 0, stderr)
  t.same(readdirSync(out).sort(), ['frame1.png', 'frame2.png', 'frame3.png'], 'three frames decoded')
})

t.test('createPushHandler() serves HTTP/2 through node:http2\'s compatibility API', async (t) => {
  const push = createPushHandler({ source: () => ['over h2'], contentType: 'text/plain', boundary: 'B' })
  const server = http2.createServer(push)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const response = await request(connect(t, `http://127.0.0.1:${(server.address() as { port: number }).port}`), '/')
  await response.ended
  t.equal(response.headers['content-type'], 'multipart/x-mixed-replace;boundary=B')
  t.equal(response.parts().parts[0]?.body.toString(), 'over h2')
})

t.test('12 streams of large frames on a connection that stops reading hold the session under Node\'s memory limit: a new stream is still served', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const frame = (n: number): Buffer => Buffer.alloc(1024 * 1024, n)
  const { app: fastify, origin } = await serve(t, 'h2c', {
    boundary: 'B',
    contentType: 'application/octet-stream',
    idleRepeatMs: 0,
    routes: [{ path: '/live', source: live, snapshot: '/live.bin' }, { path: '/pull', source: () => frame(3), intervalMs: 20 }]
  })
  const session = connect(t, origin)
  // Half of them fed by the live source, half pulling their own frames.
  const viewers = await Promise.all(Array.from({ length: 12 }, (_, i) => request(session, i % 2 === 0 ? '/live' : '/pull')))
  for (const viewer of viewers) viewer.stream.pause()
  // Twelve 1 MB frames unsent would be over Node's default maxSessionMemory of 10 MB, which refuses every new
  // stream of the session (the page's next image, its API calls) until the memory is released.
  live.publish(frame(1))
  live.publish(frame(2))
  const snapshot = await request(session, '/live.bin')
  await snapshot.ended
  t.equal(snapshot.headers[':status'], 200, 'a new stream of the session is served')
  t.equal(snapshot.body().length, 1024 * 1024)
  const viewerCount = (): number => (fastify.serverPush.stats()['/live']?.viewers ?? 0) + (fastify.serverPush.stats()['/pull']?.viewers ?? 0)
  t.equal(viewerCount(), 12, 'no stream was refused or cut')
  for (const viewer of viewers) viewer.stream.resume()
  const liveViewers = viewers.filter((_, i) => i % 2 === 0)
  await eventually(() => liveViewers.every((viewer) => viewer.parts().parts.at(-1)?.body[0] === 2), 'every live stream on the latest frame')
  const pullViewers = viewers.filter((_, i) => i % 2 === 1)
  await eventually(() => pullViewers.every((viewer) => viewer.parts().parts.length >= 2), 'every pull stream gets parts again')
  t.ok(viewers.every((viewer) => viewer.parts().parts.every((part) => part.body.length === 1024 * 1024)), 'every part whole')
})

/**
 * The server's side of each HTTP/2 stream, in the order the requests came, watched at every write: the most bytes
 * they held unsent together right after one, and writes to a stream already destroyed.
 */
function watchServerStreams (app: FastifyInstance): { streams: http2.ServerHttp2Stream[], mostHeld: () => number, writesAfterDestroy: () => number } {
  const streams: http2.ServerHttp2Stream[] = []
  let mostHeld = 0
  let writesAfterDestroy = 0
  app.addHook('onRequest', async (request) => {
    const stream = (request.raw as unknown as http2.Http2ServerRequest).stream
    streams.push(stream)
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
    stream.write = ((...args: unknown[]) => {
      if (stream.destroyed) writesAfterDestroy++
      const result = write(...args)
      mostHeld = Math.max(mostHeld, streams.reduce((sum, each) => sum + each.writableLength, 0))
      return result
    }) as typeof stream.write
  })
  return { streams, mostHeld: () => mostHeld, writesAfterDestroy: () => writesAfterDestroy }
}

const MB = 1024 * 1024
/** What one connection's push streams may hold unsent: the budget, one more part, and part headers. */
const MOST_HELD = SESSION_BUDGET_BYTES + MB + 64 * 1024

t.test('session budget: pull streams whose frames come in the same tick each check it right before writing', async (t) => {
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  let pulls = 0
  let watch: ReturnType<typeof watchServerStreams> | undefined
  const { origin } = await serve(t, 'h2c', {
    boundary: 'B',
    contentType: 'application/octet-stream',
    idleRepeatMs: 0,
    routes: [{ path: '/pull', source: async () => { pulls++; await released; return Buffer.alloc(MB, 3) } }]
  }, (app) => { watch = watchServerStreams(app) })
  const session = connect(t, origin)
  const viewers = await Promise.all(Array.from({ length: 12 }, () => request(session, '/pull')))
  for (const viewer of viewers) viewer.stream.pause()
  await eventually(() => pulls === 12, 'every stream waiting for its frame')
  release()
  const next = await request(session, '/pull')
  t.equal(next.headers[':status'], 200, 'a new stream of the session is served')
  t.ok(watch!.mostHeld() <= MOST_HELD, `the session held at most the budget and one part (${(watch!.mostHeld() / MB).toFixed(1)} MB)`)
  for (const viewer of viewers) viewer.stream.resume()
  await eventually(() => viewers.every((viewer) => viewer.parts().parts.length >= 2), 'every stream gets parts')
  t.ok(watch!.mostHeld() <= MOST_HELD, `and once reading again (${(watch!.mostHeld() / MB).toFixed(1)} MB)`)
})

t.test('session budget: streams waiting on a connection whose streams each hold less than their highWaterMark (no drain event) are woken', async (t) => {
  const live = createLiveSource({ timestamps: false })
  // More streams than a connection may carry by default: the option raises it.
  const { origin } = await serve(t, 'h2c', { boundary: 'B', contentType: 'application/octet-stream', idleRepeatMs: 0, routes: [{ path: '/live', source: live, maxStreamsPerConnection: 300 }] })
  const session = connect(t, origin)
  // 300 parts of 15 KB, each under a stream's highWaterMark, are over the budget together.
  const viewers = await Promise.all(Array.from({ length: 300 }, () => request(session, '/live')))
  for (const viewer of viewers) viewer.stream.pause()
  live.publish(Buffer.alloc(15 * 1024, 1))
  for (const viewer of viewers) viewer.stream.resume()
  await eventually(() => viewers.every((viewer) => viewer.parts().parts.length === 1), 'every stream gets the frame')
  t.pass('every stream got the frame')
})

t.test('session budget: streams waiting for it longer than stallTimeoutMs are not cut while the connection moves', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { app: fastify, origin } = await serve(t, 'h2c', { boundary: 'B', contentType: 'application/octet-stream', idleRepeatMs: 0, routes: [{ path: '/live', source: live, stallTimeoutMs: 1000 }] })
  const session = connect(t, origin)
  const viewers = await Promise.all(Array.from({ length: 40 }, () => request(session, '/live')))
  for (const viewer of viewers) viewer.stream.pause()
  // 40 parts of 512 KiB: 8 fill the session's budget, and the others wait while the client takes one stream's part
  // at a time, every 100 ms: four seconds of waiting for the last ones, the connection moving all along.
  live.publish(Buffer.alloc(512 * 1024, 1))
  for (const viewer of viewers) {
    viewer.stream.resume()
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await eventually(() => viewers.every((viewer) => viewer.parts().parts.length === 1), 'every stream gets the frame')
  t.equal(fastify.serverPush.stats()['/live']?.viewers, 40, 'none cut off')
})

t.test('session budget: a stream reset while it waits is never written to', async (t) => {
  const live = createLiveSource({ timestamps: false })
  let watch: ReturnType<typeof watchServerStreams> | undefined
  const { app: fastify, origin } = await serve(t, 'h2c', { boundary: 'B', contentType: 'application/octet-stream', idleRepeatMs: 0, routes: [{ path: '/live', source: live }] },
    (app) => { watch = watchServerStreams(app) })
  const session = connect(t, origin)
  const viewers = await Promise.all(Array.from({ length: 8 }, () => request(session, '/live')))
  for (const viewer of viewers) viewer.stream.pause()
  live.publish(Buffer.alloc(MB, 1))
  const { streams } = watch!
  // Those holding less than the frame never got it: they wait for the session.
  const waiting = streams.map((stream, i) => stream.writableLength < MB ? i : -1).filter((i) => i >= 0)
  t.ok(waiting.length > 0, `${waiting.length} streams wait for the session`)
  for (const i of waiting) viewers[i]!.stream.close(http2.constants.NGHTTP2_CANCEL)
  await eventually(() => fastify.serverPush.stats()['/live']?.viewers === 8 - waiting.length, 'the resets seen')
  for (const viewer of viewers) viewer.stream.resume()
  const kept = viewers.filter((_, i) => !waiting.includes(i))
  await eventually(() => kept.every((viewer) => viewer.parts().parts.length === 1), 'the others read their frame')
  live.publish(Buffer.alloc(MB, 2))
  await eventually(() => kept.every((viewer) => viewer.parts().parts.length === 2), 'and the next one')
  t.equal(watch!.writesAfterDestroy(), 0, 'nothing was written to a reset stream')
  t.equal(fastify.serverPush.stats()['/live']?.partsSent, 2 * kept.length, 'and no part counted for one')
})

t.test('session budget: streams ending on a connection that holds it are reset, not sent one more part', async (t) => {
  const live = createLiveSource({ timestamps: false })
  let watch: ReturnType<typeof watchServerStreams> | undefined
  const { origin } = await serve(t, 'h2c', {
    boundary: 'B',
    contentType: 'application/octet-stream',
    idleRepeatMs: 0,
    routes: [{ path: '/live', source: live }, { path: '/x', source: () => ['one'] }]
  }, (app) => { watch = watchServerStreams(app) })
  const session = connect(t, origin)
  const viewers = await Promise.all(Array.from({ length: 12 }, () => request(session, '/live')))
  for (const viewer of viewers) viewer.stream.pause()
  live.publish(Buffer.alloc(MB, 1))
  // Streams whose client does not read them are set aside in turn, each with its part, until the session holds
  // its budget.
  await eventually(() => watch!.streams.reduce((sum, each) => sum + each.writableLength, 0) >= SESSION_BUDGET_BYTES, 'the session holds its budget')
  live.close()
  const next = await request(session, '/live')
  t.equal(next.headers[':status'], 200, 'a new stream of the session is served')
  for (const viewer of viewers) viewer.stream.resume()
  await Promise.all(viewers.map((viewer) => viewer.ended))
  // A reset stream of a paused client can see the END_STREAM Node sends ahead of the reset: what tells it is the
  // missing close delimiter.
  const cut = viewers.filter((viewer) => !viewer.parts().closed)
  t.ok(cut.length >= 12 - SESSION_BUDGET_BYTES / MB, `${cut.length} streams cut without a closing part`)
  t.ok(watch!.mostHeld() <= MOST_HELD, `the session held at most the budget and one part (${(watch!.mostHeld() / MB).toFixed(1)} MB)`)
  // The control: on a connection under its budget the same end is well-formed.
  const reading = await request(session, '/x')
  await reading.ended
  t.ok(reading.parts().closed, 'a stream ending on a connection under its budget gets the close delimiter')
  t.equal(reading.stream.rstCode, http2.constants.NGHTTP2_NO_ERROR)
})

t.test('close() as the client goes away: the session that carried streams is let go after the grace, and close() resolves', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { app: fastify, origin } = await serve(t, 'h2c', { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/live', source: live }] })
  const session = connect(t, origin)
  const viewers = await Promise.all([request(session, '/live'), request(session, '/live')])
  live.publish('frame')
  await eventually(() => viewers.every((viewer) => viewer.parts().parts.length === 1), 'both streams got the frame')
  session.destroy()
  await fastify.close()
  t.equal(fastify.serverPush.stats()['/live']?.viewers, 0)
})
