// Live sources: one producer, many viewers, the same bytes for all, producers that run only while watched.
import { inspect } from 'node:util'
import t from 'tap'
import { createLiveSource, fromCommand, liveFrom, relay } from '../lib/index.js'
import { redisSource } from '../lib/redis.js'
import { aborted, eventually, fastifyOnly, startApp, timerCount } from './helpers/app.js'
import { bodies, partsOf, RawClient } from './helpers/wire-client.js'

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

t.test('stats count exactly; the status route answers them as JSON', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { stats, port } = await startApp(t, {
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
  const expected = { viewers: 2, framesPublished: 3, framesRefused: 0, framesDropped: 0, framesCapped: 0, partsSent: 6, partsRepeated: 0, framesSkipped: 0, bytesSent: 6 * partBytes, viewersRefused: 1, offline: false, offlineSince: null, offlineMs: 0 }
  t.same(stats()['/live'], expected)
  t.same(stats()['/pull'], { viewers: 0, framesPublished: 0, framesRefused: 0, framesDropped: 0, framesCapped: 0, partsSent: 0, partsRepeated: 0, framesSkipped: 0, bytesSent: 0, viewersRefused: 0, offline: false, offlineSince: null, offlineMs: 0 })
  const status = await fetch(`http://127.0.0.1:${port}/push-status`)
  t.same(await status.json(), stats())
  for (const client of clients) client.destroy()
})

t.test('a live source shows its user publish(), close() and counts that only it changes, whatever made it; nothing a route uses', async (t) => {
  const made = {
    createLiveSource: createLiveSource(),
    liveFrom: liveFrom(async function * () {}),
    fromCommand: fromCommand('ffmpeg'),
    relay: relay('http://127.0.0.1/'),
    redisSource: redisSource({ channel: 'c' })
  }
  for (const [kind, source] of Object.entries(made)) {
    const names = new Set<string>()
    for (let own: object | null = source; own !== null && own !== Object.prototype; own = Object.getPrototypeOf(own)) {
      for (const name of Object.getOwnPropertyNames(own)) if (name !== 'constructor') names.add(name)
    }
    t.same([...names].sort(), ['close', 'closed', 'framesCapped', 'framesDropped', 'framesRefused', 'publish', 'published'], kind)
    for (const count of ['published', 'framesRefused', 'framesDropped', 'framesCapped', 'closed']) {
      t.notOk(Reflect.set(source, count, 7), `${kind}: ${count} cannot be set`)
    }
    t.same([source.published, source.framesRefused, source.framesDropped, source.framesCapped, source.closed], [0, 0, 0, 0, false], kind)
    // Printed or spread, it shows nothing of the hub behind it (its frames, streams and timers).
    t.same(Object.keys({ ...source }), [], `${kind}: nothing to spread`)
    t.equal(inspect(source), 'Handle {}', `${kind}: printed`)
    source.close()
    t.equal(source.closed, true, kind)
  }
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
  const { stats, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  t.equal((await fetch(`http://127.0.0.1:${port}/cam`, { method: 'HEAD' })).status, 200)
  t.equal(started, 0, 'nobody watches, though the route was asked: not started')
  const a = await RawClient.get(port, '/cam')
  const b = await RawClient.get(port, '/cam')
  await Promise.all([a.parts(3), b.parts(3)])
  t.equal(started, 1, 'one producer for all viewers')
  a.destroy()
  b.destroy()
  await eventually(() => stats()['/cam']?.viewers === 0)
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
  t.match(producerErrors()[2], { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /liveFrom\(\): the factory must return an async iterable/ })
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
  const { stats, port, logged } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source, idleRepeatMs: 0 }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.until(() => bodies(partsOf(viewer)).includes('two'))
  release()
  await viewer.until(() => bodies(partsOf(viewer)).includes('three'))
  t.same(bodies(partsOf(viewer)), ['one', 'two', 'three'])
  t.equal(stats()['/cam']?.framesRefused, 3)
  t.equal(logged('server push producer frame refused, skipped').length, 2, 'one line per run of bad frames')
  t.match(logged('server push producer frame refused, skipped')[0], { err: { code: 'FST_SERVER_PUSH_BAD_FRAME' } })
  t.same(logged('server push producer failed'), [])
  t.equal(viewer.ended, false)
  viewer.destroy()
  await eventually(() => stats()['/cam']?.viewers === 0)
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

fastifyOnly('two registrations share app.serverPush', async (t) => {
  const { stats } = await startApp(t, { routes: [{ path: '/a', source: () => 'a' }] }, {
    setup: async (app) => { await app.register((await import('../lib/index.js')).default, { routes: [{ path: '/b', source: () => 'b' }] }) }
  })
  t.same(Object.keys(stats()).sort(), ['/a', '/b'])
})

t.test('a live viewer gone before its handler runs leaves the producer\'s demand as it was', async (t) => {
  let stopped = 0
  const source = liveFrom(async function * ({ signal }) { try { yield 'x'; await aborted(signal) } finally { stopped++ } })
  let inHooks: () => void = () => {}
  const reachedHooks = new Promise<void>((resolve) => { inHooks = resolve })
  const { port, logged } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] }, {
    before: async (req) => {
      if (req.headers['x-slow'] === undefined) return
      const closed = new Promise((resolve) => req.socket.once('close', resolve))
      inHooks()
      await closed
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
  const { stats, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  const first = await RawClient.get(port, '/cam')
  await first.parts(1)
  first.destroy()
  await eventually(() => stats()['/cam']?.viewers === 0)
  // A viewer that comes and goes while the first producer is still closing never gets one of its own.
  const brief = await RawClient.get(port, '/cam')
  await brief.opened()
  brief.destroy()
  await eventually(() => stats()['/cam']?.viewers === 0)
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
  const { stats, close, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/cam', source }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  viewer.destroy()
  await eventually(() => stats()['/cam']?.viewers === 0)
  t.equal(stopped, 0, 'lingering')
  await close()
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

t.test('the channel hands every viewer the same part object: built once per route, never copied per viewer', async (t) => {
  const { LiveChannel } = await import('../lib/core/live/live-stream.js')
  const { hubOf } = await import('../lib/core/live/source.js')
  const { RouteCounters } = await import('../lib/core/counters.js')
  const { multipart } = await import('../lib/core/wire.js')
  const live = createLiveSource()
  const route = {
    path: '/x',
    multipart: multipart('B'),
    stallTimeoutMs: 0,
    idleRepeatMs: 0,
    minGapMs: 0,
    contentType: 'image/jpeg',
    jpegHuffmanTables: true,
    counters: new RouteCounters()
  }
  const channel = new LiveChannel(route, hubOf(live))
  const received: unknown[][] = [[], [], []]
  const viewers = received.map((parts) => ({ offer: (part: unknown) => parts.push(part) }))
  for (const viewer of viewers) channel.join(viewer as unknown as Parameters<typeof channel.join>[0])
  const body = Buffer.from('frame')
  live.publish(body)
  live.publish(body)
  t.equal(received[0]?.length, 2)
  for (let i = 0; i < 2; i++) {
    t.ok(received.every((parts) => parts[i] === received[0]?.[i]), `frame ${i + 1}: one object for all viewers`)
    t.same((received[0]?.[i] as { body: Buffer }).body, body, 'its body is the frame\'s bytes')
  }
})

t.test('close() waits for producers to stop, but not forever: one that never stops is logged after producerStopTimeoutMs', async (t) => {
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
  const { close, port, logged } = await startApp(t, { producerStopTimeoutMs: 1000, routes: [{ path: '/stuck', source: stuck }, { path: '/polite', source: polite }] })
  const viewers = [await RawClient.get(port, '/stuck'), await RawClient.get(port, '/polite')]
  await Promise.all(viewers.map((viewer) => viewer.parts(1)))
  const started = Date.now()
  await close()
  t.ok(stopped, 'the producer that stops was waited for')
  t.ok(Date.now() - started >= 990, 'the one that never stops, for producerStopTimeoutMs')
  t.match(logged('server push producers still stopping; closed without them'), [{ waitedMs: 1000 }])
})
