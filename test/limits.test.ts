// Viewers that cannot keep up, stop reading or come too many: the others are not held up, a stalled one is cut
// off, a paused one holds at most one frame, and maxFps and maxClients bound what a route gives.
import { once } from 'node:events'
import net from 'node:net'
import t from 'tap'
import { createLiveSource } from '../lib/index.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { bigFrames, kernelBufferLimit, pausedSocketOf, publishUntilFull, untilStill } from './helpers/full-socket.js'
import { bodies, partsOf, RawClient } from './helpers/wire-client.js'

t.test('a paused viewer: the others are not held up, it holds at most one frame, it resumes at the newest', async (t) => {
  const live = createLiveSource()
  const paused = pausedSocketOf()
  // No idle repeats: every part a viewer gets is a published frame, so counts are exact.
  const route = { path: '/live', source: live, idleRepeatMs: 0 }
  const { stats, port } = await startApp(t, { contentType: 'application/octet-stream', routes: [route] }, paused)
  const reader = await RawClient.get(port, '/live')
  const pausedClient = await RawClient.get(port, '/live', { headers: ['X-Pause: 1'] })
  await Promise.all([reader, pausedClient].map((client) => client.opened()))
  pausedClient.socket.pause()
  const frames = bigFrames(live)
  let published = 0
  // Each frame waits for the reader to have it.
  const publish = async (): Promise<void> => { await frames.publish(); await reader.parts(++published) }
  t.comment(`the kernel took ${await publishUntilFull(publish, paused.socket())} frames of 512 KiB before the socket was full`)
  const skipped = (): number => stats()['/live']?.framesSkipped ?? 0
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

// Node queues a socket's writes until they reach its highWaterMark (16 KiB, and 64 KiB from Node 22 on) before it
// says the socket is full: parts smaller than that would queue behind one another in Node, each as old as the
// link is slow, rather than wait as one frame that the newest replaces.
for (const kind of ['live', 'pull'] as const) {
  t.test(`a ${kind} route's parts of 4 KiB to a paused viewer: at most one waits in user space, whatever the socket's highWaterMark`, async (t) => {
    const SIZE = 4 * 1024
    const live = createLiveSource()
    let pulls = 0
    const paused = pausedSocketOf()
    const route = kind === 'live'
      ? { path: '/small', source: live, idleRepeatMs: 0 }
      : { path: '/small', source: () => Buffer.alloc(SIZE, ++pulls % 256), idleRepeatMs: 0 }
    const { stats, port } = await startApp(t, { contentType: 'application/octet-stream', routes: [route] }, paused)
    const client = await RawClient.get(port, '/small', { headers: ['X-Pause: 1'] })
    await client.opened()
    client.socket.pause()
    // Until the route holds frames back: the pull route stops pulling, the live route skips them (now and then
    // while the kernel still takes bytes, so until Node also holds a part).
    let published = 0
    if (kind === 'pull') await untilStill(() => pulls, 'the pulls stop')
    else {
      while ((stats()['/small']?.framesSkipped ?? 0) < 2 || paused.socket().writableLength === 0) {
        live.publish(Buffer.alloc(SIZE, ++published % 256))
        if (published > kernelBufferLimit() / SIZE + 100) throw new Error(`${published} frames and the paused viewer's socket is not full`)
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const stoppedAt = pulls
    const socket = paused.socket()
    // Over 0 for the live route is how its loop ended; for the pull route, the pulls stopped as the socket was full.
    t.ok(socket.writableLength > 0 && socket.writableLength <= SIZE + 1024,
      `one part waits in user space (${socket.writableLength} bytes; the socket's highWaterMark is ${socket.writableHighWaterMark})`)
    client.socket.resume()
    const newest = (): number => kind === 'live' ? published % 256 : pulls % 256
    await client.until(() => partsOf(client).at(-1)?.body[0] === newest() && (kind === 'live' || pulls > stoppedAt + 2))
    t.pass('it reads on from the newest frame')
    client.destroy()
  })
}

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
  const { stats, port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/live', source: live, maxFps: 10 }] })
  const client = await RawClient.get(port, '/live')
  await client.opened()
  for (let i = 1; i <= 50; i++) live.publish(`frame ${i}`)
  await client.parts(2)
  t.same(bodies(partsOf(client)), ['frame 1', 'frame 50'])
  t.equal(stats()['/live']?.framesSkipped, 48)
  client.destroy()
})

t.test('maxClients: one more viewer is answered 503 with Retry-After, and counted', async (t) => {
  const live = createLiveSource()
  const { stats, port } = await startApp(t, { routes: [{ path: '/live', source: live, maxClients: 2 }] })
  const viewers = await Promise.all([RawClient.get(port, '/live'), RawClient.get(port, '/live')])
  await Promise.all(viewers.map((client) => client.opened()))
  const refused = await RawClient.get(port, '/live')
  await refused.closed
  t.match(refused.data.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*retry-after: 1\r\n[^]*maximum of 2 viewers/i)
  t.equal(stats()['/live']?.viewersRefused, 1)
  viewers[0]?.destroy()
  await eventually(() => stats()['/live']?.viewers === 1)
  const next = await RawClient.get(port, '/live')
  await next.opened()
  t.match(next.data.toString('latin1'), /^HTTP\/1\.1 200 OK/)
  next.destroy()
  viewers[1]?.destroy()
})
