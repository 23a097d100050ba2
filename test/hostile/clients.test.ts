// Hostile clients, and sources that misbehave on purpose or not: pipelining floods, garbage on a stream's
// connection, out-of-order and HTTP/0.9 requests, crowds of waiting snapshots, viewers of a frame that never comes.
// Each gets a defined answer, and nothing of theirs piles up in the server.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { createLiveSource, type SourceContext } from '../../lib/index.js'
import { hubOf } from '../../lib/core/live/source.js'
import { eventually, fastifyOnly, startApp } from '../helpers/app.js'
import { RawClient } from '../helpers/wire-client.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

t.test('an HTTP/0.9 request line is answered 505 and logged as a request, not as a server error', async (t) => {
  const { port, logs } = await startApp(t, { routes: [{ path: '/live', source: createLiveSource() }] })
  const client = await RawClient.open(port, 'GET /live\r\n\r\n')
  await client.until(() => client.ended)
  const text = client.data.toString('latin1')
  t.match(text, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/)
  t.match(text, /Server push needs HTTP\/1\.0, HTTP\/1\.1 or HTTP\/2, got HTTP\/0\.9/)
  t.same(logs.filter((line) => line.level >= 50), [], 'nothing logged at error level')
})

t.test('a request line saying HTTP/2.0 on an HTTP/1 connection is answered 505, and close() does not wait for it', async (t) => {
  const { port, logs, close, stats } = await startApp(t, { routes: [{ path: '/live', source: createLiveSource() }] })
  // Connections that stay open after their answer: a server that holds them would make close() wait for each.
  const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.open(port, 'GET /live HTTP/2.0\r\nHost: x\r\n\r\n')))
  for (const client of clients) {
    await client.until(() => client.ended)
    const text = client.data.toString('latin1')
    t.match(text, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/)
    t.match(text, /Server push needs HTTP\/1\.0, HTTP\/1\.1 or HTTP\/2, got HTTP\/2\.0 on an HTTP\/1 connection/)
  }
  t.equal(stats()['/live']?.viewers, 0, 'no viewer counted')
  t.same(logs.filter((line) => line.level >= 50), [], 'nothing logged at error level')
  await close()
})

t.test('many snapshot requests waiting at once add no listener each to anything shared', async (t) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const live = createLiveSource()
  const { close, port } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg', snapshotTimeoutMs: 60_000 }] })
  const waiting = Array.from({ length: 30 }, () => fetch(`http://127.0.0.1:${port}/v.jpg`))
  // Every request is in the handler, waiting, once each holds the source.
  await eventually(() => hubOf(live).demand === 30)
  live.publish('the frame')
  const bodies = await Promise.all(waiting.map(async (response) => await (await response).text()))
  t.ok(bodies.every((body) => body === 'the frame'), 'every waiting request gets the frame')
  await close()
  t.same(warnings.map((warning) => warning.name), [], 'no MaxListenersExceededWarning')
})

t.test('viewers that left while their frame function never settles are collectable at once', async (t) => {
  const requests: Array<WeakRef<object>> = []
  // One promise every viewer waits on, as on a camera's next frame that never comes: it outlives them all.
  const stuck = new Promise<never>(() => {})
  const { stats, port } = await startApp(t, {
    routes: [{
      path: '/stuck',
      contentType: 'text/plain',
      // The first frame at once, then the promise that never settles: each viewer is left waiting on it.
      source: ({ request }: SourceContext) => {
        const first = requests.every((ref) => ref.deref() !== request)
        if (first) requests.push(new WeakRef(request))
        return first ? 'first' : stuck
      }
    }]
  })
  const viewers = await Promise.all(Array.from({ length: 200 }, () => RawClient.get(port, '/stuck')))
  await Promise.all(viewers.map((viewer) => viewer.parts(1)))
  t.equal(requests.length, 200)
  for (const viewer of viewers) viewer.destroy()
  await eventually(() => stats()['/stuck']?.viewers === 0)
  const alive = (): number => requests.filter((ref) => ref.deref() !== undefined).length
  await eventually(() => {
    gc()
    return alive() === 0
  })
  t.equal(alive(), 0, 'no request of a viewer gone is kept by the promise it waits on')
})

t.test('requests pipelined behind a stream close its connection: a flood of them is not parsed, kept or answered', async (t) => {
  const live = createLiveSource()
  let requests = 0
  const { port, logged } = await startApp(t, { routes: [{ path: '/live', source: live }] }, {
    before: () => { requests++ }
  })
  const client = await RawClient.get(port, '/live')
  await client.opened()
  // 3 MB of requests in one go: each would otherwise be parsed and kept, with its reply, behind the stream.
  const one = 'GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
  const flood = one.repeat(Math.ceil(3e6 / one.length))
  client.socket.write(flood)
  await client.until(() => client.ended)
  const sent = flood.length / one.length
  t.ok(requests < sent / 10, `the server saw ${requests} of the ${sent} requests`)
  t.equal(client.data.toString('latin1').match(/HTTP\/1\.1 /g)?.length, 1, 'no response but the stream')
  await eventually(() => logged('server push stream ended').length === 1)
  t.equal(logged('server push stream ended')[0]?.reason, 'client-gone')
})

t.test('bytes that are not HTTP, sent on a stream\'s connection, close it: no 400 is written into the stream', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port } = await startApp(t, { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/live', source: live }] })
  const client = await RawClient.get(port, '/live')
  await client.opened()
  live.publish('frame')
  await client.parts(1)
  client.socket.write('\u0000\u0001 not a request at all\r\n\r\n')
  await client.until(() => client.ended)
  const text = client.data.toString('latin1')
  t.notMatch(text, /400 Bad Request/, 'nothing but the stream came')
  t.equal(text.match(/HTTP\/1\.1 /g)?.length, 1)
})

fastifyOnly('a push request pipelined behind a slow one is answered after it, in order', async (t) => {
  let entered: () => void = () => {}
  const inSlow = new Promise<void>((resolve) => { entered = resolve })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const live = createLiveSource({ timestamps: false })
  live.publish('frame')
  const { port } = await startApp(t, { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/live', source: live }] }, {
    setup: (app) => {
      app.get('/slow', async () => { entered(); await released; return 'slow answer' })
      // A hook's header that would split the response: the push request waits its turn, then fails as a 500.
      app.addHook('onRequest', async (request, reply) => { if (request.headers['x-evil'] !== undefined) reply.header('X-Evil', 'a\r\nInjected: 1') })
    }
  })
  const client = await RawClient.open(port, 'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await inSlow
  release()
  await client.until((data) => data.includes('\r\n\r\nframe\r\n--B'))
  const text = client.data.toString('latin1')
  const slow = text.indexOf('slow answer')
  const stream = text.indexOf('Content-Type: multipart/x-mixed-replace')
  t.ok(slow !== -1 && stream !== -1 && slow < stream, 'the slow answer first, whole, then the stream')
  t.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nslow answerHTTP\/1\.1 200 OK\r\nContent-Type: multipart\/x-mixed-replace;boundary=B\r\n/)
  client.destroy()
  const failing = await RawClient.open(port, 'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Evil: 1\r\n\r\n')
  await failing.until((data) => /slow answerHTTP\/1\.1 500 /.test(data.toString('latin1')))
  t.notMatch(failing.data.toString('latin1'), /\r\nInjected: 1\r\n/, 'a failure after the wait is a plain 500, in order')
  failing.destroy()
})

t.test('a push request with another pipelined behind it before it starts gets no stream: the connection closes', async (t) => {
  let hooks = 0
  let bothParsed: () => void = () => {}
  const parsed = new Promise<void>((resolve) => { bothParsed = resolve })
  const { port, logged } = await startApp(t, { routes: [{ path: '/live', source: createLiveSource() }] }, {
    // An auth check that lets the push request on only once the request behind it has been parsed too.
    before: async () => {
      if (++hooks === 1) return
      if (hooks === 3) bothParsed()
      await parsed
    }
  })
  // A first request, on its own connection: a node:http server is watched from the first request a push handler
  // sees, and only requests Node parses after that can be seen arriving.
  await (await RawClient.get(port, '/live', { method: 'HEAD' })).closed
  const client = await RawClient.open(port, 'GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /other HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await client.until(() => client.ended)
  t.equal(client.data.toString('latin1').match(/HTTP\/1\.1 /g), null, 'no response head at all')
  t.same(logged('server push stream ended'), [], 'no stream was started')
  t.equal(logged('server push request with another pipelined behind it: connection closed').length, 1)
})
