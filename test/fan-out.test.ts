// What a part costs the server beyond its bytes, observed from outside: the promises a synchronous source makes,
// the scans of a body many viewers yield, and what Node's HTTP server still does on a stream's connection.
import { createHook } from 'node:async_hooks'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createLiveSource, fromFiles } from '../lib/index.js'
import { createPushHandler } from '../lib/node.js'
import { eventually, startApp, tempDir } from './helpers/app.js'
import { certificate } from './helpers/protocols.js'
import { QUIET } from './helpers/quiet-log.js'
import { RawClient } from './helpers/wire-client.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A Buffer that counts how often it is searched: the plugin looks for the route's delimiter in each body it encodes. */
function countingScans (content: Buffer): { frame: Buffer, scans: () => number } {
  let scans = 0
  const frame = Buffer.from(content)
  const indexOf = frame.indexOf.bind(frame)
  frame.indexOf = ((...args: Parameters<Buffer['indexOf']>) => {
    scans++
    return indexOf(...args)
  }) as Buffer['indexOf']
  return { frame, scans: () => scans }
}

t.test('a synchronous source makes no promise per part', async (t) => {
  const dir = tempDir('fan-out')
  const file = join(dir, 'frame.txt')
  writeFileSync(file, 'x'.repeat(1000))
  const { port } = await startApp(t, { boundary: 'B', routes: [{ path: '/files', source: fromFiles([file]), intervalMs: 0 }] })
  const client = await RawClient.get(port, '/files')
  await client.parts(1)
  const PARTS = 2000
  let promises = 0
  const hook = createHook({ init (_id, type) { if (type === 'PROMISE') promises++ } }).enable()
  const from = client.data.length
  // Each part is its 1000 bytes and about 60 of header block and delimiter.
  await client.until((data) => data.length - from >= PARTS * 1000)
  hook.disable()
  client.destroy()
  t.ok(promises < PARTS / 10, `${promises} promises made over ${PARTS} parts`)
})

// Over TLS every write completes a moment later, from an immediate of Node's own that can run in the same turn
// of the event loop as the next one: a source that never waits, woken by each completion, would be pulled part
// after part, timers and every other client held up, until the kernel took no more.
t.test('over TLS, a source that never waits is pulled about once a turn of the event loop: it holds no one up', async (t) => {
  let pulls = 0
  const frame = Buffer.alloc(4096, 'a')
  const push = createPushHandler({ source: () => { pulls++; return frame }, contentType: 'text/plain', log: QUIET })
  const { cert, key } = certificate()
  const server = https.createServer({ cert, key }, push)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  // The most pulls between two turns of the event loop, each turn one immediate of this test.
  let most = 0
  let seen = 0
  let turning = true
  const turn = (): void => {
    most = Math.max(most, pulls - seen)
    seen = pulls
    if (turning) setImmediate(turn)
  }
  setImmediate(turn)
  const request = https.get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', rejectUnauthorized: false })
  t.teardown(() => {
    turning = false
    request.destroy()
  })
  const [response] = await once(request, 'response') as [IncomingMessage]
  response.resume()
  await eventually(() => pulls >= 2000, '2000 parts pulled')
  turning = false
  t.ok(most <= 3, `at most ${most} parts pulled in one turn`)
})

t.test('a Buffer that many viewers yield is scanned for the boundary once', async (t) => {
  const { frame, scans } = countingScans(Buffer.alloc(5000, 'a'))
  const { port } = await startApp(t, { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/shared', source: () => frame, intervalMs: 0 }] })
  const viewers = await Promise.all(Array.from({ length: 20 }, () => RawClient.get(port, '/shared')))
  const responses = await Promise.all(viewers.map((viewer) => viewer.parts(3)))
  for (const viewer of viewers) viewer.destroy()
  t.ok(responses.every((response) => response.multipart.parts.slice(0, 3).every((part) => part.body.equals(frame))), 'every part is the frame')
  t.equal(scans(), 1)
})

t.test('the parts kept for buffers yielded again are few and bounded in bytes: older buffers are scanned again', async (t) => {
  // Past 16 buffers in turn, each one is no longer kept when it comes round again.
  const cycle = (count: number): Array<ReturnType<typeof countingScans>> =>
    Array.from({ length: count }, (_, n) => countingScans(Buffer.from(`frame ${n}`)))
  const kept = cycle(16)
  const many = cycle(17)
  // One body over the 16 MiB that may be kept is kept alone; the next one drops it.
  const big = countingScans(Buffer.alloc(17 * 2 ** 20, 'b'))
  const small = countingScans(Buffer.from('small'))
  const turns = { kept, many, big: [big, small] }
  // Each route yields its buffers twice round, then ends: every body it yielded was sent.
  const routes = Object.entries(turns).map(([name, frames]) => {
    let n = 0
    return { path: `/${name}`, source: () => n < frames.length * 2 ? (frames[n++ % frames.length] as { frame: Buffer }).frame : null, intervalMs: 0 }
  })
  const { port } = await startApp(t, { boundary: 'B', contentType: 'text/plain', routes })
  const total = (frames: Array<{ scans: () => number }>): number => frames.reduce((sum, { scans }) => sum + scans(), 0)
  for (const [name, frames] of Object.entries(turns)) {
    const parts = frames.length * 2
    const client = await RawClient.get(port, `/${name}`)
    const response = await client.end()
    t.same(response.multipart.parts.slice(0, parts).map((part) => part.body.length), [...frames, ...frames].map(({ frame }) => frame.length), `${name}: every part whole`)
    t.equal(total(frames), name === 'kept' ? frames.length : parts, `${name}: bodies scanned`)
  }
})

for (const hooked of [false, true]) {
  const how = hooked ? 'started after an async hook' : 'started as the request is parsed'
  t.test(`a stream's connection (${how}) is Node's HTTP server's no more: a request sent on it is not parsed, and closes it`, async (t) => {
    const live = createLiveSource()
    const { port, server, logged } = await startApp(t, { routes: [{ path: '/live', source: live }] }, hooked ? { before: async () => {} } : {})
    let requests = 0
    server.on('request', () => { requests++ })
    const client = await RawClient.get(port, '/live')
    // Node's server lets go of the connection in the turn of the event loop that starts the stream, which has
    // passed once the head has come.
    await client.opened()
    client.socket.write('GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await client.closed
    t.equal(requests, 1, 'the server saw the stream\'s request alone')
    await eventually(() => logged('server push stream ended').length === 1)
    t.equal(logged('server push stream ended')[0]?.reason, 'client-gone')
  })
}

t.test('while a stream\'s request body is still coming, Node keeps reading it, and a request after it closes the connection', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port } = await startApp(t, { boundary: 'B', contentType: 'text/plain', routes: [{ path: '/live', source: live }] })
  const client = await RawClient.get(port, '/live', { headers: ['Content-Length: 5'] })
  await client.opened()
  live.publish('frame')
  await client.parts(1)
  client.socket.write('12345GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await client.closed
  const text = client.data.toString('latin1')
  t.equal(text.match(/HTTP\/1\.1 /g)?.length, 1, 'no response but the stream')
})
