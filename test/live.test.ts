// Live sources: one producer, many viewers, the same bytes for all, slow viewers skip ahead and cost nothing.
import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { createLiveSource, liveFrom } from '../lib/index.js'
import { aborted, eventually, startApp, timerCount } from './helpers/app.js'
import { bigFrames, pausedSocketOf, publishUntilFull } from './helpers/full-socket.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { RawClient, type ParsedPart } from './helpers/wire-client.js'

const bodies = (parts: ParsedPart[]): string[] => parts.map((part) => part.body.toString())
const partsOf = (client: RawClient): ParsedPart[] => client.response()?.multipart.parts ?? []

/** Publishes `frame` and waits until every client has it as its `count`-th part. */
async function publishTo (clients: RawClient[], publish: () => void, count: number): Promise<void> {
  publish()
  await Promise.all(clients.map((client) => client.parts(count)))
}

t.test('every viewer gets the same bytes, built once: same part headers, same X-Timestamp', async (t) => {
  const live = createLiveSource()
  const { port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/live', source: live }] })
  const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.get(port, '/live')))
  await Promise.all(clients.map((client) => client.opened()))
  for (let i = 1; i <= 3; i++) await publishTo(clients, () => live.publish(`frame ${i}`), i)
  const [first, ...others] = clients.map((client) => client.response()?.body.toString('latin1'))
  t.match(first, /X-Timestamp: \d+\.\d{6}\r\n/)
  t.ok(others.every((body) => body === first), 'identical bytes for every viewer')
  t.same(bodies(partsOf(clients[0] as RawClient)), ['frame 1', 'frame 2', 'frame 3'])
  for (const client of clients) client.destroy()
})

t.test('a new viewer gets the latest frame at once; timestamps can be turned off', async (t) => {
  const live = createLiveSource({ timestamps: false })
  live.publish('before anyone watched')
  live.publish({ body: 'latest', contentType: 'text/html', headers: { 'X-Seq': '2' } })
  const { port } = await startApp(t, { routes: [{ path: '/live', source: live }] })
  const client = await RawClient.get(port, '/live')
  const [part] = (await client.parts(1)).multipart.parts
  t.same(part?.rawHeaders, ['Content-Type: text/html', 'Content-Length: 6', 'X-Seq: 2'])
  t.equal(part?.body.toString(), 'latest')
  client.destroy()
})

t.test('a paused viewer: the others are not held up, it holds at most one frame, it resumes at the newest', async (t) => {
  const live = createLiveSource()
  const paused = pausedSocketOf()
  // No idle repeats: every part a viewer gets is a published frame, so counts are exact.
  const route = { path: '/live', source: live, idleRepeatMs: 0 }
  const { app, port } = await startApp(t, { contentType: 'application/octet-stream', routes: [route] }, paused)
  const reader = await RawClient.get(port, '/live')
  const pausedClient = await RawClient.get(port, '/live', { headers: ['X-Pause: 1'] })
  await Promise.all([reader, pausedClient].map((client) => client.opened()))
  pausedClient.socket.pause()
  const frames = bigFrames(live)
  let published = 0
  // Each frame waits for the reader to have it.
  const publish = async (): Promise<void> => { await frames.publish(); await reader.parts(++published) }
  t.comment(`the kernel took ${await publishUntilFull(publish, paused.socket())} frames of 512 KiB before the socket was full`)
  const skipped = (): number => app.serverPush.stats()['/live']?.framesSkipped ?? 0
  // The kernel may still grow its buffers now and then; frames go on until two have been skipped.
  while (skipped() < 2) {
    if (published >= 250) throw new Error('250 frames and the paused viewer skipped none')
    await publish()
  }
  const buffered = paused.socket().writableLength
  t.ok(buffered <= 512 * 1024 + paused.socket().writableHighWaterMark + 1024, `at most one part in user space (${buffered} bytes)`)
  t.ok(skipped() >= 2, `frames skipped for the paused viewer (${skipped()})`)
  pausedClient.socket.resume()
  await pausedClient.until(() => partsOf(pausedClient).at(-1)?.body[0] === frames.last())
  const numbers = (client: RawClient): number[] => partsOf(client).map((part) => part.body[0] as number)
  t.ok(numbers(pausedClient).length < published, `it skipped to the newest frame (${numbers(pausedClient).length} parts, not ${published})`)
  t.ok(numbers(pausedClient).every((n, i, all) => i === 0 || n > (all[i - 1] as number)), 'in order, never backwards')
  t.same(numbers(reader), Array.from({ length: published }, (_, i) => i + 1), 'the reading viewer got every frame, once, in order')
  reader.destroy()
  pausedClient.destroy()
})

t.test('a viewer that makes no progress for stallTimeoutMs is cut off and logged', async (t) => {
  const live = createLiveSource()
  const paused = pausedSocketOf()
  const { port, logged } = await startApp(t, { routes: [{ path: '/live', source: live, stallTimeoutMs: 100 }] }, paused)
  const client = await RawClient.get(port, '/live', { headers: ['X-Pause: 1'] })
  await client.opened()
  client.socket.pause()
  await publishUntilFull(bigFrames(live).publish, paused.socket())
  await eventually(() => logged('server push stream ended').length === 1)
  t.match(logged('server push stream ended')[0], { reason: 'stalled', route: '/live' })
  client.socket.resume()
  await client.closed
})

t.test('a pull stream stalls out too', async (t) => {
  const { port, logged } = await startApp(t, { routes: [{ path: '/pull', stallTimeoutMs: 100, source: () => Buffer.alloc(1024 * 1024, 2) }] })
  const client = await RawClient.get(port, '/pull')
  await client.until((data) => data.length > 1024 * 1024)
  client.socket.pause()
  await eventually(() => logged('server push stream ended').length === 1)
  t.match(logged('server push stream ended')[0], { reason: 'stalled' })
  client.destroy()
})

t.test('a viewer full now and then, each time for less than stallTimeoutMs, is not cut off', async (t) => {
  const stallTimeoutMs = 2000
  const live = createLiveSource()
  const paused = pausedSocketOf()
  const { port, logged } = await startApp(t, { routes: [{ path: '/live', source: live, stallTimeoutMs, idleRepeatMs: 0 }] }, paused)
  // A plain socket that reads and forgets: a cycle can move tens of MiB, which no test should keep.
  const client = net.connect(port, '127.0.0.1', () => { client.write('GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pause: 1\r\n\r\n') })
  t.teardown(() => { client.destroy() })
  client.resume()
  await eventually(() => client.bytesRead > 0)
  const { publish } = bigFrames(live)
  const server = paused.socket()
  const caughtUp = (): boolean => !server.writableNeedDrain && client.bytesRead === server.bytesWritten
  // Full for a fifth of the timeout at a time, until it has been full for longer than the timeout in all: a
  // stall clock that did not restart on progress would cut it off.
  let fullFor = 0
  while (fullFor < 1.5 * stallTimeoutMs) {
    client.pause()
    await publishUntilFull(publish, server)
    const full = Date.now()
    await new Promise((resolve) => setTimeout(resolve, stallTimeoutMs / 5))
    fullFor += Date.now() - full
    client.resume()
    await eventually(caughtUp)
  }
  t.same(logged('server push stream ended'), [], `still open after ${fullFor} ms full in all`)
  const before = client.bytesRead
  await publish()
  await eventually(() => caughtUp() && client.bytesRead > before)
  t.pass('and still served')
})

t.test('a slow reader taking one big part bit by bit is not stalled; once it stops reading, it is', async (t) => {
  // Long enough that a busy machine's late timers stay well inside it.
  const stallTimeoutMs = 2000
  const paused = pausedSocketOf()
  // One part bigger than any kernel's buffers and all the reading below: it never completes here.
  const big = Buffer.alloc(128 * 1024 * 1024, 7)
  const { port, logged } = await startApp(t, {
    routes: [{ path: '/big', stallTimeoutMs, idleRepeatMs: 0, source: async function * ({ signal }) { yield big; await aborted(signal) } }]
  }, paused)
  // A plain socket that reads and forgets.
  const client = net.connect(port, '127.0.0.1', () => { client.write('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pause: 1\r\n\r\n') })
  t.teardown(() => { client.destroy() })
  client.pause()
  await eventually(() => paused.came() && paused.socket().writableNeedDrain)
  const server = paused.socket() as unknown as { _handle: { writeQueueSize: number } }
  // Five times: not reading for 0.3 of the timeout, then reading a chunk at a time until the kernel has taken
  // bytes off the server's queue (how much that needs is the kernel's choice). Full for longer than the timeout
  // in all, with progress in between: a check that waits for a whole part would cut it off.
  let fullFor = 0
  for (let i = 0; i < 5; i++) {
    const full = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 0.3 * stallTimeoutMs))
    if (logged('server push stream ended').length > 0) break
    const queued = server._handle.writeQueueSize
    while (server._handle.writeQueueSize >= queued) {
      client.resume()
      await once(client, 'data')
      client.pause()
      await new Promise((resolve) => setImmediate(resolve))
    }
    fullFor += Date.now() - full
  }
  t.same(logged('server push stream ended'), [], `not cut off after ${fullFor} ms full, the part far from done`)
  await eventually(() => logged('server push stream ended').length === 1)
  t.equal(logged('server push stream ended')[0]?.reason, 'stalled', 'then, not reading at all, it is')
})

t.test('stallTimeoutMs: 0 never cuts a viewer off; the plugin\'s timeout still cuts off the others', async (t) => {
  const live = createLiveSource()
  const paused = pausedSocketOf()
  const { port, logged } = await startApp(t, {
    stallTimeoutMs: 100,
    routes: [
      { path: '/never', source: live, stallTimeoutMs: 0 },
      { path: '/control', source: () => Buffer.alloc(1024 * 1024, 3) }
    ]
  }, paused)
  const client = await RawClient.get(port, '/never', { headers: ['X-Pause: 1'] })
  await client.opened()
  client.socket.pause()
  await publishUntilFull(bigFrames(live).publish, paused.socket())
  // The control fills by itself once paused, after the first: it has been full for less time when it is cut off.
  const control = await RawClient.get(port, '/control')
  await control.opened()
  control.socket.pause()
  await eventually(() => logged('server push stream ended').length > 0)
  t.equal(logged('server push stream ended').length, 1, 'one stream was cut off')
  t.match(logged('server push stream ended')[0], { route: '/control', reason: 'stalled' }, 'the control')
  t.notOk(client.ended, 'the viewer with stallTimeoutMs: 0 is still connected')
  client.destroy()
  control.destroy()
})

t.test('maxFps: a burst of frames reaches a viewer as the first and the last', async (t) => {
  const live = createLiveSource()
  const { app, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/live', source: live, maxFps: 10 }] })
  const client = await RawClient.get(port, '/live')
  await client.opened()
  for (let i = 1; i <= 50; i++) live.publish(`frame ${i}`)
  await client.parts(2)
  t.same(bodies(partsOf(client)), ['frame 1', 'frame 50'])
  t.equal(app.serverPush.stats()['/live']?.framesSkipped, 48)
  client.destroy()
})

t.test('maxClients: one more viewer is answered 503 with Retry-After, and counted', async (t) => {
  const live = createLiveSource()
  const { app, port } = await startApp(t, { routes: [{ path: '/live', source: live, maxClients: 2 }] })
  const viewers = await Promise.all([RawClient.get(port, '/live'), RawClient.get(port, '/live')])
  await Promise.all(viewers.map((client) => client.opened()))
  const refused = await RawClient.get(port, '/live')
  await refused.closed
  t.match(refused.data.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*retry-after: 1\r\n[^]*maximum of 2 viewers/i)
  t.equal(app.serverPush.stats()['/live']?.viewersRefused, 1)
  viewers[0]?.destroy()
  await eventually(() => app.serverPush.stats()['/live']?.viewers === 1)
  const next = await RawClient.get(port, '/live')
  await next.opened()
  t.match(next.data.toString('latin1'), /^HTTP\/1\.1 200 OK/)
  next.destroy()
  viewers[1]?.destroy()
})

t.test('snapshot: waits for a first frame, answers the latest with its type, length and no-cache headers', async (t) => {
  const live = createLiveSource()
  let arrived: () => void = () => {}
  const requested = new Promise<void>((resolve) => { arrived = resolve })
  const { port } = await startApp(t, {
    routes: [{ path: '/video.mjpg', source: live, snapshot: '/video.jpg', headers: { 'Access-Control-Allow-Origin': '*' } }]
  }, { setup: (app) => { app.addHook('preHandler', async () => { setImmediate(arrived) }) } })
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
  await eventually(() => (live as unknown as { demand: number }).demand === 1)
  live.close()
  t.equal((await waiting).status, 503)
})

t.test('stats count exactly; the status route answers them as JSON', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { app, port } = await startApp(t, {
    idleRepeatMs: 0,
    statusPath: '/push-status',
    contentType: 'text/plain',
    routes: [{ path: '/live', source: live, maxClients: 2 }, { path: '/pull', source: () => ['x'] }]
  })
  const clients = await Promise.all([RawClient.get(port, '/live'), RawClient.get(port, '/live')])
  await Promise.all(clients.map((client) => client.opened()))
  for (let i = 1; i <= 3; i++) await publishTo(clients, () => live.publish('abc'), i)
  const refused = await RawClient.get(port, '/live')
  await refused.closed
  const partBytes = 'Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc'.length + `\r\n--${clients[0]?.response()?.boundary}\r\n`.length
  const expected = { viewers: 2, framesPublished: 3, framesRefused: 0, partsSent: 6, partsRepeated: 0, framesSkipped: 0, bytesSent: 6 * partBytes, viewersRefused: 1 }
  t.same(app.serverPush.stats()['/live'], expected)
  t.same(app.serverPush.stats()['/pull'], { viewers: 0, framesPublished: 0, framesRefused: 0, partsSent: 0, partsRepeated: 0, framesSkipped: 0, bytesSent: 0, viewersRefused: 0 })
  const status = await fetch(`http://127.0.0.1:${port}/push-status`)
  t.same(await status.json(), app.serverPush.stats())
  for (const client of clients) client.destroy()
})

t.test('close() of a live source ends its streams well-formed; it then takes no frames', async (t) => {
  const live = createLiveSource()
  const { port, logged } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/live', source: live }] })
  const clients = await Promise.all([RawClient.get(port, '/live'), RawClient.get(port, '/live')])
  await Promise.all(clients.map((client) => client.opened()))
  await publishTo(clients, () => live.publish('last'), 1)
  live.close()
  live.close()
  for (const client of clients) {
    const res = await client.end()
    t.ok(res.multipart.closed)
    t.same(bodies(res.multipart.parts), ['last', 'last'])
  }
  t.same(logged('server push stream ended').map((line) => line.reason), ['source-ended', 'source-ended'])
  t.throws(() => live.publish('more'), { code: 'FST_SERVER_PUSH_SOURCE_CLOSED' })
  const late = await (await RawClient.get(port, '/live')).end()
  t.same(bodies(late.multipart.parts), ['last', 'last'], 'a viewer of a closed source gets the last frame and the end')
  t.ok(late.multipart.closed)
})

t.test('a frame the stream cannot carry is refused at publish and reaches no one', async (t) => {
  const early = createLiveSource()
  early.publish('x--B')
  const live = createLiveSource()
  const { port, logged } = await startApp(t, { boundary: 'B', routes: [{ path: '/live', source: live }, { path: '/early', source: early }] })
  const client = await RawClient.get(port, '/live')
  await client.opened()
  t.throws(() => live.publish(42 as unknown as string), { code: 'FST_SERVER_PUSH_BAD_FRAME' })
  t.throws(() => live.publish('a--Bb'), { code: 'FST_SERVER_PUSH_BAD_FRAME', message: /--B/ })
  t.equal(live.published, 0)
  live.publish('fine')
  t.same(bodies((await client.parts(1)).multipart.parts), ['fine'])
  client.destroy()
  const res = await (await RawClient.get(port, '/early')).end()
  t.ok(res.multipart.closed, 'a frame published before the route existed and unfit for it ends the stream')
  t.match(logged('server push source failed')[0]?.err, { code: 'FST_SERVER_PUSH_BAD_FRAME' })
})

t.test('liveFrom: the producer starts with the first viewer and stops after the last one and the linger', async (t) => {
  let started = 0
  let stopped = 0
  const source = liveFrom(async function * ({ signal }) {
    started++
    try {
      for (let i = 0; ; i++) {
        yield `tick ${i}`
        await new Promise((resolve) => setTimeout(resolve, 10))
        if (signal.aborted) return
      }
    } finally {
      stopped++
    }
  }, { lingerMs: 1000 })
  const { app, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  t.equal((await fetch(`http://127.0.0.1:${port}/cam`, { method: 'HEAD' })).status, 200)
  t.equal(started, 0, 'nobody watches, though the route was asked: not started')
  const a = await RawClient.get(port, '/cam')
  const b = await RawClient.get(port, '/cam')
  await Promise.all([a.parts(3), b.parts(3)])
  t.equal(started, 1, 'one producer for all viewers')
  a.destroy()
  b.destroy()
  await eventually(() => app.serverPush.stats()['/cam']?.viewers === 0)
  t.equal(stopped, 0, 'the last viewer left: it lingers')
  const again = await RawClient.get(port, '/cam')
  await again.parts(2)
  t.equal(started, 1, 'a viewer back within the linger finds it running')
  again.destroy()
  await eventually(() => stopped === 1)
  t.equal(started, 1)
  const later = await RawClient.get(port, '/cam')
  const first = (await later.parts(1)).multipart.parts[0]
  t.equal(first?.body.toString(), 'tick 0', 'a new producer, and no stale frame from the old one')
  t.equal(started, 2)
  later.destroy()
  await eventually(() => stopped === 2)
})

t.test('liveFrom: a snapshot alone starts the producer', async (t) => {
  const source = liveFrom(async function * ({ signal }) { yield 'snap'; await aborted(signal) })
  const { port } = await startApp(t, { routes: [{ path: '/cam', source, snapshot: '/cam.jpg', contentType: 'text/plain' }] })
  const res = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
  t.equal(await res.text(), 'snap')
})

t.test('liveFrom: a producer that ends or fails ends its streams; the next viewer starts a new one', async (t) => {
  let runs = 0
  let returned = 0
  const ends = liveFrom(async function * () { runs++; yield 'only' })
  let unplug: () => void = () => {}
  const unplugged = new Promise<void>((resolve) => { unplug = resolve })
  const fails = liveFrom(async function * () { yield 'one'; await unplugged; throw new Error('camera unplugged') })
  // Ten frames in a row that cannot be published: the producer has failed.
  const bad = liveFrom(async function * () { try { yield 'ok'; for (let i = 0; i < 10; i++) yield 42 as unknown as string } finally { returned++ } })
  const notAsync = liveFrom((() => ['sync']) as unknown as () => AsyncIterable<string>)
  const badReturn = liveFrom(() => ({
    [Symbol.asyncIterator]: () => ({
      next: async () => ({ value: 'x', done: false as const }),
      return: async () => { throw new Error('cannot stop') }
    })
  }))
  const { port, logged, logs } = await startApp(t, {
    contentType: 'text/plain',
    routes: [
      { path: '/ends', source: ends },
      { path: '/fails', source: fails },
      { path: '/bad', source: bad },
      { path: '/not-async', source: notAsync },
      { path: '/bad-return', source: badReturn, intervalMs: 50 }
    ]
  })
  const first = await (await RawClient.get(port, '/ends')).end()
  t.ok(first.multipart.closed)
  t.same(bodies(first.multipart.parts).at(-1), 'only')
  await (await RawClient.get(port, '/ends')).end()
  t.equal(runs, 2, 'the next viewer started it again')
  const failures = await Promise.all([RawClient.get(port, '/fails'), RawClient.get(port, '/fails')])
  await Promise.all(failures.map((client) => client.parts(1)))
  unplug()
  for (const client of failures) t.ok((await client.end()).multipart.closed)
  t.same(logged('server push stream ended').filter((line) => line.route === '/fails').map((line) => line.reason), ['source-error', 'source-error'])
  const producerErrors = (): unknown[] => logged('server push producer failed').map((line) => line.err)
  t.match(producerErrors(), [{ message: 'camera unplugged' }], 'logged once, not once per viewer')
  await (await RawClient.get(port, '/bad')).end()
  t.match(producerErrors()[1], { code: 'FST_SERVER_PUSH_BAD_FRAME' })
  t.equal(returned, 1, 'a producer that yields only bad frames is stopped')
  await (await RawClient.get(port, '/not-async')).end()
  t.match(producerErrors()[2], { message: /must return an async iterable/ })
  const client = await RawClient.get(port, '/bad-return')
  await client.parts(1)
  client.destroy()
  await eventually(() => logs.some((line) => line.msg === 'server push producer failed to stop'))
  t.pass('a producer whose return() fails is logged')
})

t.test('liveFrom: a bad frame now and then is skipped and counted; the viewers keep their stream', async (t) => {
  let release: () => void = () => {}
  const more = new Promise<void>((resolve) => { release = resolve })
  const source = liveFrom(async function * ({ signal }) {
    yield 'one'
    yield 42 as unknown as string
    yield { body: 'x', contentType: 'not a type' }
    yield 'two'
    await more
    yield { data: 'wrong shape' } as unknown as string
    yield 'three'
    await aborted(signal)
  }, { timestamps: false })
  const { app, port, logged } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source, idleRepeatMs: 0 }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.until(() => bodies(partsOf(viewer)).includes('two'))
  release()
  await viewer.until(() => bodies(partsOf(viewer)).includes('three'))
  t.same(bodies(partsOf(viewer)), ['one', 'two', 'three'])
  t.equal(app.serverPush.stats()['/cam']?.framesRefused, 3)
  t.equal(logged('server push producer frame refused, skipped').length, 2, 'one line per run of bad frames')
  t.match(logged('server push producer frame refused, skipped')[0], { err: { code: 'FST_SERVER_PUSH_BAD_FRAME' } })
  t.same(logged('server push producer failed'), [])
  t.equal(viewer.ended, false)
  viewer.destroy()
  await eventually(() => app.serverPush.stats()['/cam']?.viewers === 0)
})

t.test('liveFrom: a producer stopped while it waits on its signal is not a failure; no timer is left', async (t) => {
  let finished = false
  const source = liveFrom(async function * ({ signal }) {
    try {
      yield 'first'
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 60_000)
        signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) })
      })
    } finally {
      finished = true
    }
  })
  const rejecting = liveFrom(({ signal }) => ({
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<string>>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('stopped')))
      })
    })
  }))
  const { port, logged, logs } = await startApp(t, {
    contentType: 'text/plain',
    routes: [{ path: '/cam', source }, { path: '/rejecting', source: rejecting }]
  })
  const baseline = timerCount()
  await RawClient.visit(port, '/cam', 1)
  await RawClient.visit(port, '/rejecting')
  await eventually(() => finished)
  await eventually(() => logged('server push stream ended').length === 2)
  t.same(logged('server push source failed'), [])
  t.same(logs.filter((line) => line.level >= 40), [], 'nothing logged as a warning or an error')
  t.equal(timerCount(), baseline)
})

t.test('a live route answers HEAD without starting its producer', async (t) => {
  let started = 0
  const source = liveFrom(async function * () { started++; yield 'x' })
  const { port } = await startApp(t, { routes: [{ path: '/cam', source }] })
  const client = await RawClient.get(port, '/cam', { method: 'HEAD' })
  await client.closed
  t.equal(started, 0)
})

t.test('two registrations share app.serverPush', async (t) => {
  const { app } = await startApp(t, { routes: [{ path: '/a', source: () => 'a' }] }, {
    setup: async (app) => { await app.register((await import('../lib/index.js')).default, { routes: [{ path: '/b', source: () => 'b' }] }) }
  })
  t.same(Object.keys(app.serverPush.stats()).sort(), ['/a', '/b'])
})

t.test('a live viewer gone before its handler runs leaves the producer\'s demand as it was', async (t) => {
  let stopped = 0
  const source = liveFrom(async function * ({ signal }) { try { yield 'x'; await aborted(signal) } finally { stopped++ } })
  let inHooks: () => void = () => {}
  const reachedHooks = new Promise<void>((resolve) => { inHooks = resolve })
  const { port, logged } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] }, {
    setup: (app) => {
      app.addHook('preHandler', async (request) => {
        if (request.headers['x-slow'] === undefined) return
        const closed = new Promise((resolve) => request.raw.socket.once('close', resolve))
        inHooks()
        await closed
      })
    }
  })
  const early = await RawClient.get(port, '/cam', { headers: ['X-Slow: 1'] })
  await reachedHooks
  early.destroy()
  await eventually(() => logged('server push stream ended').length === 1)
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  viewer.destroy()
  await eventually(() => stopped === 1)
  t.pass('the producer stopped once its one real viewer left')
})

t.test('liveFrom: a new producer starts only once the old one has finished stopping', async (t) => {
  let active = 0
  let most = 0
  let runs = 0
  let closeCamera: () => void = () => {}
  const source = liveFrom(async function * ({ signal }) {
    active++
    runs++
    most = Math.max(most, active)
    try {
      yield 'frame'
      await aborted(signal)
    } finally {
      if (runs === 1) await new Promise<void>((resolve) => { closeCamera = resolve }) // a camera takes a while to close
      active--
    }
  })
  const { app, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  const first = await RawClient.get(port, '/cam')
  await first.parts(1)
  first.destroy()
  await eventually(() => app.serverPush.stats()['/cam']?.viewers === 0)
  // A viewer that comes and goes while the first producer is still closing never gets one of its own.
  const brief = await RawClient.get(port, '/cam')
  await brief.opened()
  brief.destroy()
  await eventually(() => app.serverPush.stats()['/cam']?.viewers === 0)
  const second = await RawClient.get(port, '/cam')
  await second.opened()
  t.equal(runs, 1, 'not started while the first one closes')
  closeCamera()
  await second.parts(1)
  t.equal(runs, 2)
  t.equal(most, 1, 'never two producers at once')
  second.destroy()
})

t.test('liveFrom: close() stops the producer for good', async (t) => {
  let started = 0
  let stopped = 0
  const source = liveFrom(async function * ({ signal }) { started++; try { yield 'x'; await aborted(signal) } finally { stopped++ } })
  const { port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  source.close()
  t.ok((await viewer.end()).multipart.closed)
  await eventually(() => stopped === 1)
  const late = await (await RawClient.get(port, '/cam')).end()
  t.ok(late.multipart.closed)
  t.equal(started, 1, 'a viewer after close() does not start it again')
})

t.test('fastify.close() stops a producer even while it lingers', async (t) => {
  let stopped = 0
  const source = liveFrom(async function * ({ signal }) { try { yield 'x'; await aborted(signal) } finally { stopped++ } }, { lingerMs: 60_000 })
  const { app, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  viewer.destroy()
  await eventually(() => app.serverPush.stats()['/cam']?.viewers === 0)
  t.equal(stopped, 0, 'lingering')
  await app.close()
  await eventually(() => stopped === 1)
  t.pass('stopped with the app')
})

t.test('one live source shown by two routes: the same frames, each in its route\'s framing', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port } = await startApp(t, {
    routes: [
      { path: '/a', source: live, boundary: 'alpha', contentType: 'text/plain' },
      { path: '/b', source: live, boundary: 'beta', contentType: 'text/html' }
    ]
  })
  const clients = await Promise.all([RawClient.get(port, '/a'), RawClient.get(port, '/b')])
  await Promise.all(clients.map((client) => client.opened()))
  await publishTo(clients, () => live.publish('shared'), 1)
  const [a, b] = clients.map((client) => client.response())
  t.equal(a?.boundary, 'alpha')
  t.equal(b?.boundary, 'beta')
  t.same(a?.multipart.parts[0]?.rawHeaders, ['Content-Type: text/plain', 'Content-Length: 6'])
  t.same(b?.multipart.parts[0]?.rawHeaders, ['Content-Type: text/html', 'Content-Length: 6'])
  for (const client of clients) client.destroy()
})

t.test('a snapshot still waiting when the app closes is answered at once, and close() does not wait for it', async (t) => {
  const live = createLiveSource()
  const { app, port } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg', snapshotTimeoutMs: 60_000 }] })
  const waiting = fetch(`http://127.0.0.1:${port}/v.jpg`)
  // The request is in the handler, waiting, once it holds the source.
  await eventually(() => (live as unknown as { demand: number }).demand === 1)
  const closing = app.close()
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
  const { app, port } = await startApp(t, { routes: [{ path: '/v', source: createLiveSource(), snapshot: '/v.jpg', snapshotTimeoutMs: 2 * PATIENCE_MS }] }, {
    // An auth check still running when close() begins.
    setup: (app) => { app.addHook('preHandler', async () => { arrived(); await released }) },
    // Lets the request on only once the plugin has seen the server closing.
    after: (app) => { app.addHook('preClose', async () => { release() }) }
  })
  // Waited for with the usual patience: a request left waiting for its timeout fails here.
  const waiting = fetch(`http://127.0.0.1:${port}/v.jpg`, { signal: AbortSignal.timeout(PATIENCE_MS) })
  await inHook
  const closing = app.close()
  const res = await waiting
  t.equal(res.status, 503, 'not held for snapshotTimeoutMs')
  t.equal(res.headers.get('connection'), 'close')
  await closing
})

t.test('the channel hands every viewer the same part object: built once, never copied', async (t) => {
  const { LiveChannel } = await import('../lib/live/channel.js')
  const { RouteCounters } = await import('../lib/stats.js')
  const { multipart } = await import('../lib/wire.js')
  const live = createLiveSource()
  const route = {
    path: '/x',
    multipart: multipart('B'),
    stallTimeoutMs: 0,
    idleRepeatMs: 0,
    minGapMs: 0,
    contentType: 'image/jpeg',
    counters: new RouteCounters(undefined)
  }
  const channel = new LiveChannel(route, live)
  const received: unknown[][] = [[], [], []]
  const viewers = received.map((parts) => ({ offer: (part: unknown) => parts.push(part) }))
  for (const viewer of viewers) channel.join(viewer as unknown as Parameters<typeof channel.join>[0])
  const body = Buffer.from('frame')
  live.publish(body)
  live.publish(body)
  t.equal(received[0]?.length, 2)
  for (let i = 0; i < 2; i++) {
    t.ok(received.every((parts) => parts[i] === received[0]?.[i]), `frame ${i + 1}: one object for all viewers`)
    t.equal((received[0]?.[i] as { body: Buffer }).body, body, 'and its body is the published buffer itself')
  }
})

t.test('close() waits for producers to stop, but not forever: one that never stops is logged after 5 s', async (t) => {
  let stopped = false
  const stuck = liveFrom(async function * () {
    yield 'frame'
    // Ignores its signal, so return() waits for a next() that never settles.
    await new Promise(() => {})
  })
  const polite = liveFrom(async function * ({ signal }) {
    try {
      yield 'frame'
      await aborted(signal)
    } finally {
      await new Promise((resolve) => setTimeout(resolve, 100))
      stopped = true
    }
  })
  const { app, port, logged } = await startApp(t, { routes: [{ path: '/stuck', source: stuck }, { path: '/polite', source: polite }] })
  const viewers = [await RawClient.get(port, '/stuck'), await RawClient.get(port, '/polite')]
  await Promise.all(viewers.map((viewer) => viewer.parts(1)))
  const started = Date.now()
  await app.close()
  t.ok(stopped, 'the producer that stops was waited for')
  t.ok(Date.now() - started >= 4900, 'the one that never stops, for 5 s')
  t.match(logged('server push producers still stopping; closed without them')[0], { waitedMs: 5000 })
})
