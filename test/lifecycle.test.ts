// How streams end: client gone, source ended or failed, server closing; and that nothing is left behind.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Socket } from 'node:net'
import t from 'tap'
import type { SourceContext } from '../lib/index.js'
import { aborted, eventually, queryOf, SERVER, socketOf, startApp, timerCount } from './helpers/app.js'
import { kernelBufferLimit, untilStill } from './helpers/full-socket.js'
import { RawClient } from './helpers/wire-client.js'

/** Runs `then` one event-loop turn after the server socket first shows that the client left ('end' or 'close'). */
function firstSignOfLeaving (socket: Socket | undefined, then: () => void): Promise<void> {
  return new Promise((resolve) => {
    let seen = false
    const onLeave = (): void => {
      if (seen) return
      seen = true
      setImmediate(() => { then(); resolve() })
    }
    socket?.once('end', onLeave)
    socket?.once('close', onLeave)
  })
}

t.test('client gone while the source waits at a yield: finally runs, signal aborts, no timer is left', async (t) => {
  const seen = { finally: false, signal: undefined as AbortSignal | undefined }
  const { port, logged } = await startApp(t, {
    routes: [{
      path: '/slow',
      intervalMs: 60_000,
      source: async function * ({ signal }) {
        seen.signal = signal
        try {
          for (let i = 0; ; i++) yield `frame ${i}`
        } finally {
          seen.finally = true
        }
      }
    }]
  })
  const before = timerCount()
  const client = await RawClient.get(port, '/slow')
  await client.parts(1)
  t.ok(timerCount() > before, 'the pump waits on a timer for the next interval')
  client.destroy()
  await eventually(() => seen.finally)
  t.equal(seen.signal?.aborted, true)
  await eventually(() => timerCount() === before)
  const [line] = logged('server push stream ended')
  t.match(line, { route: '/slow', reason: 'client-gone', parts: 1, bytes: Number, durationMs: Number })
})

t.test('client gone while the source is inside next(): return() and the abort come in the same turn', async (t) => {
  let socket: Socket | undefined
  const order: string[] = []
  const { port } = await startApp(t, {
    routes: [{
      path: '/wait',
      source: async function * ({ signal, request }) {
        socket = socketOf(request)
        try {
          yield 'first'
          await aborted(signal)
          order.push('woke')
        } finally {
          order.push('finally')
        }
      }
    }]
  })
  const baseline = timerCount()
  const client = await RawClient.get(port, '/wait')
  await client.parts(1)
  const noticed = firstSignOfLeaving(socket, () => order.push('next turn'))
  client.destroy()
  await noticed
  t.same(order, ['woke', 'finally', 'next turn'])
  t.equal(timerCount(), baseline, 'no timer is left')
})

t.test('a hand-written iterator stuck in next() gets return() at once when the client goes', async (t) => {
  let returned = 0
  let socket: Socket | undefined
  const { port } = await startApp(t, {
    routes: [{
      path: '/stuck',
      source: ({ request }: SourceContext) => {
        socket = socketOf(request)
        return {
          [Symbol.asyncIterator] () {
            return {
              next: () => new Promise<IteratorResult<string>>(() => {}),
              return: async () => { returned++; return { done: true as const, value: undefined } }
            }
          }
        }
      }
    }]
  })
  const client = await RawClient.get(port, '/stuck')
  await client.opened()
  let returnedThen = -1
  const noticed = firstSignOfLeaving(socket, () => { returnedThen = returned })
  client.destroy()
  await noticed
  t.equal(returnedThen, 1)
})

t.test('client gone while a frame function\'s promise is pending: signal aborts, nothing is left', async (t) => {
  let calls = 0
  let socket: Socket | undefined
  let abortedWhilePending = false
  const { port, logged } = await startApp(t, {
    routes: [{
      path: '/poll',
      contentType: 'text/plain',
      source: ({ request, signal }: SourceContext) => {
        socket = socketOf(request)
        if (++calls === 1) return 'first'
        return aborted(signal).then(() => { abortedWhilePending = true; return 'too late' })
      }
    }]
  })
  const baseline = timerCount()
  const client = await RawClient.get(port, '/poll')
  await client.parts(1)
  await eventually(() => calls === 2)
  const noticed = firstSignOfLeaving(socket, () => {})
  client.destroy()
  await noticed
  t.ok(abortedWhilePending)
  await eventually(() => logged('server push stream ended').length === 1)
  t.match(logged('server push stream ended')[0], { reason: 'client-gone', parts: 1 })
  t.same(logged('server push source failed'), [])
  t.equal(calls, 2, 'the function is not called again')
  t.equal(timerCount(), baseline, 'no timer is left')
})

t.test('a client that half-closes its side is gone too', async (t) => {
  let finished = false
  const { port, logged } = await startApp(t, {
    routes: [{ path: '/x', intervalMs: 50, source: async function * () { try { for (;;) yield 'x' } finally { finished = true } } }]
  })
  const client = await RawClient.get(port, '/x')
  await client.parts(1)
  client.socket.end()
  await eventually(() => finished)
  await eventually(() => logged('server push stream ended').length === 1)
  t.equal(logged('server push stream ended')[0]?.reason, 'client-gone')
})

t.test('a source that throws because it was aborted is not a failing source', async (t) => {
  const { port, logged } = await startApp(t, {
    routes: [
      {
        path: '/generator',
        source: async function * ({ signal }) {
          yield 'first'
          await sleep(60_000, undefined, { signal })
        }
      },
      {
        path: '/iterator',
        source: ({ signal }: SourceContext) => ({
          [Symbol.asyncIterator]: () => ({
            next: () => new Promise<IteratorResult<string>>((_resolve, reject) => {
              signal.addEventListener('abort', () => reject(new Error('aborted')))
            })
          })
        })
      }
    ]
  })
  await RawClient.visit(port, '/generator', 1)
  await RawClient.visit(port, '/iterator')
  await eventually(() => logged('server push stream ended').length === 2)
  t.same(logged('server push stream ended').map((line) => line.reason), ['client-gone', 'client-gone'])
  t.same(logged('server push source failed'), [])
})

t.test('a source that destroys its own socket gets nothing more written', async (t) => {
  const { port, logged } = await startApp(t, {
    routes: [{
      path: '/kill',
      source: ({ request }: SourceContext) => ({
        [Symbol.iterator]: () => ({
          next: () => {
            socketOf(request).destroy()
            return { done: true as const, value: undefined }
          }
        })
      })
    }]
  })
  const client = await RawClient.get(port, '/kill')
  await client.closed
  t.match(client.data.toString('latin1'), /\r\n\r\n--[0-9a-f]{32}\r\n$/, 'only the head and the opening delimiter')
  await eventually(() => logged('server push stream ended').length === 1)
  t.equal(logged('server push stream ended')[0]?.reason, 'source-ended')
})

t.test('a client gone before the handler runs never starts the source', async (t) => {
  let calls = 0
  let inHooks: () => void = () => {}
  const reachedHooks = new Promise<void>((resolve) => { inHooks = resolve })
  const { port, logged } = await startApp(t, { routes: [{ path: '/x', source: () => { calls++; return 'x' } }] }, {
    before: async (req) => {
      const closed = new Promise((resolve) => req.socket.once('close', resolve))
      inHooks()
      await closed
    }
  })
  const client = await RawClient.get(port, '/x')
  await reachedHooks
  client.destroy()
  await eventually(() => logged('server push stream ended').length === 1)
  t.match(logged('server push stream ended')[0], { reason: 'client-gone', parts: 0 })
  t.equal(calls, 0)
})

t.test('a source that ends with no frame closes with an empty part', async (t) => {
  const { port, logged } = await startApp(t, { routes: [{ path: '/none', source: () => [] }] })
  const res = await (await RawClient.get(port, '/none')).end()
  t.ok(res.multipart.closed)
  t.same(res.multipart.parts.map((p) => [p.rawHeaders, p.body.length]), [[[], 0]])
  t.match(logged('server push stream ended')[0], { reason: 'source-ended', parts: 0 })
})

t.test('a frame function is called once per part; null ends the stream', async (t) => {
  let n = 0
  const { port } = await startApp(t, {
    routes: [
      { path: '/sync', contentType: 'text/plain', source: () => (++n <= 3 ? `tick ${n}` : null) },
      { path: '/async', contentType: 'text/plain', source: async () => 'once' }
    ]
  })
  const sync = await (await RawClient.get(port, '/sync')).end()
  t.same(sync.multipart.parts.map((p) => p.body.toString()), ['tick 1', 'tick 2', 'tick 3', 'tick 3'])
  const client = await RawClient.get(port, '/async')
  const res = await client.parts(3)
  t.same(res.multipart.parts.slice(0, 3).map((p) => p.body.toString()), ['once', 'once', 'once'])
  client.destroy()
})

t.test('intervalMs (here the plugin-level default): pulls keep to a schedule of one per interval, never ahead of it, and never two within half an interval', async (t) => {
  const pulls: number[] = []
  const { port } = await startApp(t, {
    intervalMs: 40,
    routes: [{ path: '/paced', source: () => { pulls.push(performance.now()); return 'x' } }]
  })
  const client = await RawClient.get(port, '/paced')
  await client.parts(8)
  client.destroy()
  // Lower bounds only, which load cannot break; the source records its call right after the pump's clock
  // reading, hence the 0.5 ms.
  const first = pulls[0] as number
  for (let i = 1; i < 8; i++) {
    const at = pulls[i] as number
    t.ok(at - first >= i * 40 - 0.5, `pull ${i} (${(at - first).toFixed(2)} ms after the first) is not ahead of the schedule`)
    const gap = at - (pulls[i - 1] as number)
    t.ok(gap >= 19.5, `gap ${i} (${gap.toFixed(2)} ms) is at least half the interval`)
  }
})

t.test('sources that fail: logged with the route, closed well-formed, other streams carry on', async (t) => {
  const finallyRan: string[] = []
  const failing: Record<string, (context: SourceContext) => unknown> = {
    '/throws-at-open': () => { throw new Error('camera offline') },
    '/rejects': async () => { throw new Error('no frame') },
    '/throws-later': async function * () { yield 'one'; yield 'two'; throw new Error('broken pipe') },
    '/poll-throws': (() => { let n = 0; return () => { if (++n === 2) throw new Error('poll failed'); return `poll ${n}` } })(),
    '/bad-number': function * () { try { yield 'ok'; yield 42 } finally { finallyRan.push('/bad-number') } },
    '/bad-object': () => [{ data: 'x' }],
    '/bad-empty-object': () => [{}],
    '/bad-array': () => [['x']],
    '/bad-null': () => ['ok', null],
    '/bad-type': () => [{ body: 'x', contentType: 'text/html\r\nX: 1' }],
    '/bad-header': () => [{ body: 'x', headers: { 'X-A': 'a\nb' } }],
    '/reserved-header': () => [{ body: 'x', headers: { 'Content-Length': '1' } }],
    '/delimiter-in-body': () => ['ok', 'a\r\n--B\r\nb'],
    '/delimiter-at-start': () => ['--B is not a body'],
    '/bare-delimiter': () => ['a--Bb'],
    '/bad-iterator': () => ({ [Symbol.iterator]: () => ({ next: () => undefined }) })
  }
  const expected: Record<string, RegExp> = {
    '/throws-at-open': /camera offline/,
    '/rejects': /no frame/,
    '/throws-later': /broken pipe/,
    '/poll-throws': /poll failed/,
    '/bad-number': /a frame must be a Buffer, Uint8Array, string or \{ body \}, got number/,
    '/bad-object': /got an object without body \(keys: data\)/,
    '/bad-empty-object': /got an object without body \(keys: none\)/,
    '/bad-array': /got an array/,
    '/bad-null': /got null/,
    '/bad-type': /contentType "text\/html\\r\\nX: 1" is not a media type/,
    '/bad-header': /header X-A has an invalid value/,
    '/reserved-header': /part header Content-Length is set by the plugin/,
    '/delimiter-in-body': /the body contains the boundary delimiter --B/,
    '/delimiter-at-start': /the body contains the boundary delimiter --B/,
    '/bare-delimiter': /the body contains the boundary delimiter --B/,
    '/bad-iterator': /next\(\) returned a non-object/
  }
  const { port, logs, logged } = await startApp(t, {
    boundary: 'B',
    contentType: 'text/plain',
    routes: [
      { path: '/healthy', intervalMs: 20, source: () => 'alive' },
      {
        path: '/flaky',
        intervalMs: 20,
        source: ({ request }: SourceContext) => {
          if (queryOf(request).has('fail')) throw new Error('this client only')
          return 'fine'
        }
      },
      ...Object.entries(failing).map(([path, source]) => ({ path, source: source as () => string }))
    ]
  })
  const healthy = await RawClient.get(port, '/healthy')
  await healthy.parts(1)
  const sameRoute = await RawClient.get(port, '/flaky')
  await sameRoute.parts(1)
  const failed = await (await RawClient.get(port, '/flaky?fail')).end()
  t.ok(failed.multipart.closed)
  const partsBefore = (await sameRoute.parts(1)).multipart.parts.length
  await sameRoute.parts(partsBefore + 2)
  t.pass('another client of the same route carried on')
  sameRoute.destroy()
  for (const path of Object.keys(failing)) {
    const res = await (await RawClient.get(port, path)).end()
    t.ok(res.multipart.closed, `${path}: closed with the close delimiter`)
    const error = logs.find((line) => line.msg === 'server push source failed' && line.route === path)
    t.match((error?.err as { message?: string } | undefined)?.message, expected[path], `${path}: error logged with the route`)
    if (SERVER === 'fastify') t.ok(typeof error?.reqId === 'string', `${path}: logged through request.log`)
    t.match(logged('server push stream ended').find((line) => line.route === path), { reason: 'source-error' })
  }
  t.same(finallyRan, ['/bad-number'], 'a source that yielded a bad frame is stopped')
  const throwsLater = await (await RawClient.get(port, '/throws-later')).end()
  t.same(throwsLater.multipart.parts.map((p) => p.body.toString()), ['one', 'two', 'two'], 'the last good part is repeated')
  const before = (await healthy.parts(1)).multipart.parts.length
  await healthy.parts(before + 2)
  t.pass('the healthy stream kept going')
  healthy.destroy()
})

t.test('a source whose return() fails is logged and let go', async (t) => {
  const { port, logged } = await startApp(t, {
    routes: [
      {
        path: '/sync-return',
        source: () => ({ [Symbol.iterator]: () => ({ next: () => ({ value: 'x', done: false }), return: () => { throw new Error('cannot stop') } }) }),
        intervalMs: 1000
      },
      {
        path: '/async-return',
        source: () => ({
          [Symbol.asyncIterator]: () => ({
            next: async () => ({ value: 'x', done: false }),
            return: async () => { throw new Error('cannot stop either') }
          })
        }),
        intervalMs: 1000
      }
    ]
  })
  for (const path of ['/sync-return', '/async-return']) {
    const client = await RawClient.get(port, path)
    await client.parts(1)
    client.destroy()
  }
  await eventually(() => logged('server push source failed to stop').length === 2)
  t.same(logged('server push source failed to stop').map((line) => (line.err as { message: string }).message).sort(),
    ['cannot stop', 'cannot stop either'])
})

t.test('backpressure: a client that stops reading stops the pulls; reading again resumes them', async (t) => {
  const frame = Buffer.alloc(256 * 1024, 0x61)
  let pulls = 0
  let socket: Socket | undefined
  const { port } = await startApp(t, {
    contentType: 'application/octet-stream',
    routes: [{ path: '/big', source: ({ request }: SourceContext) => { socket = socketOf(request); pulls++; return frame } }]
  })
  const client = await RawClient.get(port, '/big')
  await client.until((data) => data.length > frame.length)
  client.socket.pause()
  await untilStill(() => pulls, 'the pump stopped pulling')
  t.ok(socket?.writableNeedDrain, 'the pump is waiting for drain')
  t.ok((socket?.writableLength ?? Infinity) <= 2 * frame.length, `at most one part is buffered in user space (${socket?.writableLength} bytes)`)
  const stalledAt = pulls
  client.socket.resume()
  await eventually(() => pulls > stalledAt + 5)
  t.pass('pulls resume once the client reads')
  client.destroy()
})

t.test('close() ends 100 open streams well-formed and resolves promptly', async (t) => {
  const { close, port, logged } = await startApp(t, {
    routes: [{ path: '/live', intervalMs: 50, source: async function * ({ signal }) { let i = 0; while (!signal.aborted) yield `frame ${i++}` } }]
  })
  const clients = await Promise.all(Array.from({ length: 100 }, () => RawClient.get(port, '/live')))
  await Promise.all(clients.map((client) => client.parts(1)))
  const started = performance.now()
  await close()
  const ms = performance.now() - started
  t.comment(`close() with 100 open streams took ${ms.toFixed(1)} ms`)
  const results = await Promise.all(clients.map((client) => client.end()))
  t.ok(results.every((res) => res.multipart.closed), 'every client saw the close delimiter')
  t.ok(results.every((res) => {
    const parts = res.multipart.parts
    return parts.length >= 2 && parts.at(-1)?.body.equals(parts.at(-2)?.body as Buffer)
  }), 'every client was left on its last frame')
  t.equal(logged('server push stream ended').filter((line) => line.reason === 'server-closing').length, 100)
})

t.test('close() waits for a client that stopped reading only for the grace period, then cuts it off', async (t) => {
  // A part bigger than what the kernel may buffer for the connection at both ends, so that it cannot be flushed
  // to a client that stops reading, however the kernel tunes its buffers.
  const frame = Buffer.alloc(kernelBufferLimit() + 1024 * 1024, 0x62)
  let socket: Socket | undefined
  const { close, port } = await startApp(t, {
    routes: [{ path: '/big', source: ({ request }: SourceContext) => { socket = socketOf(request); return frame } }]
  })
  const baseline = timerCount()
  const client = await RawClient.get(port, '/big')
  await client.until((data) => data.length > 0)
  client.socket.pause()
  await eventually(() => socket?.writableNeedDrain === true)
  await close()
  t.equal(socket?.destroyed, true, 'the server cut the socket off')
  client.socket.resume()
  const res = await client.end()
  t.notOk(res.multipart.closed, 'the client never read the end: it was cut off, not ended')
  await eventually(() => timerCount() === baseline)
  t.pass('the grace timer is gone')
})

t.test('HEAD to a client that never closes its side does not hold close() up', async (t) => {
  const { close, port } = await startApp(t, { routes: [{ path: '/x', source: () => 'x' }] })
  const client = await RawClient.get(port, '/x', { method: 'HEAD' })
  await client.closed
  t.match(client.data.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n$/)
  await close()
})

t.test('a request still in its hooks when close() starts gets 503, not a stream nothing would end', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  let inHooks: () => void = () => {}
  const reachedHooks = new Promise<void>((resolve) => { inHooks = resolve })
  let calls = 0
  const { close, server, port } = await startApp(t, { routes: [{ path: '/x', source: () => { calls++; return 'x' } }] }, {
    before: async () => { inHooks(); await gate }
  })
  const client = await RawClient.get(port, '/x')
  await reachedHooks
  const closing = close()
  // The routes were told to close once the server stops listening; only then may the request leave its hooks.
  await eventually(() => !server.listening)
  release()
  await client.closed
  t.match(client.data.toString('latin1'), /^HTTP\/1\.1 503 Service Unavailable\r\n[^]*"message":"Server is closing"/)
  await closing
  t.equal(calls, 0)
})

t.test('two push requests pipelined in one write: one stream, then the connection closes', async (t) => {
  let calls = 0
  const { port } = await startApp(t, {
    routes: [{ path: '/x', contentType: 'text/plain', source: () => { calls++; return ['one', 'two'] } }]
  })
  const request = 'GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
  const client = await RawClient.open(port, request + request)
  await client.closed
  t.equal(calls, 1, 'one source')
  t.equal(client.data.toString('latin1').match(/HTTP\/1\.1/g)?.length, 1, 'one response head')
})

t.test('a source iterator whose steps are odd thenables: a then() that throws fails the stream; of one that calls back more than once, the first outcome counts', async (t) => {
  /** A source whose iterator's next() returns what `step` makes. */
  const stepping = (step: () => unknown) => () => ({ [Symbol.asyncIterator]: () => ({ next: step }) }) as unknown as AsyncIterable<string>
  const { port, logged } = await startApp(t, {
    boundary: 'B',
    contentType: 'text/plain',
    routes: [
      { path: '/throwing-then', source: stepping(() => ({ then () { throw new Error('then broke') } })) },
      {
        path: '/twice',
        intervalMs: 0,
        source: stepping(() => ({
          then (fulfil: (step: IteratorResult<string>) => void, reject: (error: Error) => void) {
            fulfil({ done: false, value: 'first' })
            fulfil({ done: false, value: 'second' })
            reject(new Error('too late'))
          }
        }))
      }
    ]
  })
  const broken = await RawClient.get(port, '/throwing-then')
  const { multipart } = await broken.end()
  t.equal(multipart.closed, true, 'closed well-formed')
  await eventually(() => logged('server push source failed').length === 1)
  t.match(logged('server push source failed')[0], { err: { message: 'then broke' } })

  const twice = await RawClient.get(port, '/twice')
  const response = await twice.parts(20)
  twice.destroy()
  t.same(new Set(response.multipart.parts.map((part) => part.body.toString())), new Set(['first']), 'only the first outcome of each step is sent')
  t.equal(logged('server push source failed').length, 1, 'a rejection after the outcome is not a failure')
})
