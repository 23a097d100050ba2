// Each viewer's own rate (`?fps=`) and a stream's longest life (`maxStreamMs`): viewers of one route read side by
// side over one window, their parts counted off the wire; a stream ended for its age read to its close delimiter,
// over HTTP/1.1 and HTTP/2.
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createLiveSource, fromFiles, type LiveSource } from '../lib/index.js'
import { createPushHandler } from '../lib/node.js'
import { aborted, eventually, startApp, tempDir } from './helpers/app.js'
import { connect, request, serve } from './helpers/protocols.js'
import { QUIET } from './helpers/quiet-log.js'
import { bodies, partsOf, RawClient } from './helpers/wire-client.js'

/** A live source published to about every 10 ms until the test ends: faster than any route below lets out. */
function busySource (t: Test): LiveSource {
  const live = createLiveSource({ timestamps: false })
  let n = 0
  const timer = setInterval(() => live.publish(`frame ${++n}`), 10)
  t.teardown(() => clearInterval(timer))
  return live
}

/** Three small text files, one frame each. */
function threeFiles (): string[] {
  const dir = tempDir('viewer-rate')
  return [1, 2, 3].map((i) => {
    const file = join(dir, `${i}.txt`)
    writeFileSync(file, `file ${i}`)
    return file
  })
}

/** Opens `paths` at once and waits until each has its first part. */
async function viewers (port: number, paths: string[]): Promise<RawClient[]> {
  const clients = await Promise.all(paths.map((path) => RawClient.get(port, path)))
  await Promise.all(clients.map((client) => client.parts(1)))
  return clients
}

/**
 * The parts each of `clients` got over one window: while the first got `count` more. Counts, not durations: a busy
 * machine makes the window longer, not the counts further apart.
 */
async function window (clients: RawClient[], count: number): Promise<number[]> {
  const start = clients.map((client) => partsOf(client).length)
  const [lead] = clients as [RawClient]
  await lead.until(() => partsOf(lead).length >= (start[0] as number) + count)
  return clients.map((client, i) => partsOf(client).length - (start[i] as number))
}

/** Asserts that `slow` got a fifth of `fast`'s parts, give or take: between a tenth and 1/2.5 of them. */
function aboutAFifth (t: Test, fast: number, slow: number, what: string): void {
  t.ok(slow >= fast / 10 && slow <= fast / 2.5, `${what}: ${slow} parts against ${fast}`)
}

// Each case has servers of its own and counts parts over a window of its own, 4 to 10 s of waiting: side by side
// rather than one after another (counts, not times, so the cases' sharing the machine decides nothing).
t.jobs = 9

/** Asserts that `other` got about as many parts as `fast`: between 2/3 and 3/2 of them. */
function aboutAsMany (t: Test, fast: number, other: number, what: string): void {
  t.ok(other >= fast * 2 / 3 && other <= fast * 3 / 2, `${what}: ${other} parts against ${fast}`)
}

/** Asserts that every part of `client` is a newer frame than the one before: none repeated, none stale. */
function newerEachTime (t: Test, client: RawClient, what: string): void {
  const numbers = bodies(partsOf(client)).map((body) => Number(/\d+$/.exec(body)?.[0]))
  t.ok(numbers.every((n, i) => i === 0 || n > (numbers[i - 1] as number)), `${what}: ${numbers.join(', ')}`)
}

t.test('?fps=2 on a 10 fps live route: that viewer gets about a fifth of the parts another gets, each the newest frame, the rest skipped', async (t) => {
  const { port, stats } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/live', source: busySource(t), maxFps: 10 }] })
  const clients = await viewers(port, ['/live', '/live?fps=2', '/live?fps=1000'])
  const [fast, slow, clamped] = await window(clients, 40) as [number, number, number]
  aboutAFifth(t, fast, slow, '?fps=2')
  aboutAsMany(t, fast, clamped, '?fps=1000 clamped to the route\'s 10')
  newerEachTime(t, clients[1] as RawClient, 'the ?fps=2 viewer skips to the newest frame')
  const { framesSkipped = 0, partsSent = 0, partsRepeated = 0 } = stats()['/live'] ?? {}
  t.equal(partsRepeated, 0, 'no viewer repeated between its own parts')
  t.ok(framesSkipped > partsSent, `frames skipped counted (${framesSkipped}, ${partsSent} parts sent)`)
  for (const client of clients) client.destroy()
})

t.test('?fps=2 on files sent every 100 ms: about a fifth of the parts; above the route\'s rate, the route\'s', async (t) => {
  const { port } = await startApp(t, { routes: [{ path: '/files', source: fromFiles(threeFiles()), intervalMs: 100 }] })
  const clients = await viewers(port, ['/files', '/files?fps=2', '/files?fps=50.5'])
  const [fast, slow, clamped] = await window(clients, 40) as [number, number, number]
  aboutAFifth(t, fast, slow, '?fps=2')
  aboutAsMany(t, fast, clamped, '?fps=50.5 clamped to the route\'s 10')
  for (const client of clients) client.destroy()
})

t.test('?fps= on a function source with no pace of its own: the viewer\'s pace alone', async (t) => {
  let n = 0
  const { port } = await startApp(t, { contentType: 'text/plain', idleRepeatMs: 0, routes: [{ path: '/count', source: () => `call ${++n}` }] })
  const clients = await viewers(port, ['/count?fps=10', '/count?fps=2'])
  const [fast, slow] = await window(clients, 40) as [number, number]
  aboutAFifth(t, fast, slow, '?fps=2 against ?fps=10')
  for (const client of clients) client.destroy()
})

/** A bad `?fps=` and the message its 400 carries. */
const BAD: ReadonlyArray<[string, string]> = [
  ['fps=0', '"0"'],
  ['fps=-1', '"-1"'],
  ['fps=', '""'],
  ['fps=abc', '"abc"'],
  ['fps=1e3', '"1e3"'],
  ['fps=0x10', '"0x10"'],
  ['fps=Infinity', '"Infinity"'],
  ['fps=NaN', '"NaN"'],
  ['fps=0.001', '"0.001"'],
  ['fps=0.0099', '"0.0099"'],
  ['fps=2&fps=3', '2 values'],
  [`fps=${encodeURIComponent('<img src=x>')}`, 'a value that is neither'],
  [`fps=${'1'.repeat(21)}`, 'a value that is neither']
]

async function refusesBadFps (t: Test, port: number, path: string): Promise<void> {
  for (const [query, shown] of BAD) {
    const res = await fetch(`http://127.0.0.1:${port}${path}?${query}`)
    t.equal(res.status, 400, query)
    t.same(await res.json(), {
      statusCode: 400,
      code: 'FST_SERVER_PUSH_BAD_FPS',
      error: 'Bad Request',
      message: `fps must be a decimal number of parts a second, at least 0.01, got ${shown}`
    }, query)
  }
}

/** Whether a stream opens at `path`: its first part comes. */
async function opens (port: number, path: string): Promise<boolean> {
  const client = await RawClient.get(port, path)
  await client.parts(1)
  client.destroy()
  return client.response()?.statusLine === 'HTTP/1.1 200 OK'
}

t.test('a bad ?fps= is answered 400 with its code; the least rate and plain decimals are taken', async (t) => {
  const { port } = await startApp(t, { contentType: 'text/plain', routes: [{ path: '/x', source: () => 'x', intervalMs: 100 }] })
  await refusesBadFps(t, port, '/x')
  for (const fps of ['0.01', '.5', '2.', '007', '999999999.999999999']) t.ok(await opens(port, `/x?fps=${fps}`), `?fps=${fps} opens`)
  const head = await fetch(`http://127.0.0.1:${port}/x?fps=0`, { method: 'HEAD' })
  t.equal(head.status, 400, 'HEAD too')
})

t.test('createPushHandler() on node:http: a bad ?fps= is answered 400 with its code, and a good one paces the viewer', async (t) => {
  const push = createPushHandler({ source: busySource(t), contentType: 'text/plain', maxFps: 10, log: QUIET })
  const server = http.createServer((req, res) => push(req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as { port: number }
  await refusesBadFps(t, port, '/x')
  const clients = await viewers(port, ['/x', '/x?fps=2'])
  const [fast, slow] = await window(clients, 40) as [number, number]
  aboutAFifth(t, fast, slow, '?fps=2')
  for (const client of clients) client.destroy()
})

t.test('viewerFps: false: ?fps= is ignored, a bad one included', async (t) => {
  const { port } = await startApp(t, {
    contentType: 'text/plain',
    routes: [{ path: '/live', source: busySource(t), maxFps: 10, viewerFps: false }, { path: '/files', source: fromFiles(threeFiles()), intervalMs: 100, viewerFps: false }]
  })
  for (const path of ['/live', '/files']) {
    const clients = await viewers(port, [path, `${path}?fps=2`, `${path}?fps=0`])
    const [fast, asked, bad] = await window(clients, 40) as [number, number, number]
    aboutAsMany(t, fast, asked, `${path}?fps=2 ignored`)
    aboutAsMany(t, fast, bad, `${path}?fps=0 ignored`)
    for (const client of clients) client.destroy()
  }
})

t.test('a viewer at 0.5 fps is neither repeated nor cut as stalled between its parts, with a short idle repeat and stall timeout', async (t) => {
  // 256 KiB frames: each fills the viewer's socket for a while, so the stall watch looks at a full socket too.
  const live = createLiveSource({ timestamps: false })
  let n = 0
  const timer = setInterval(() => live.publish(Buffer.concat([Buffer.alloc(256 * 1024, ' '), Buffer.from(`frame ${++n}`)])), 100)
  t.teardown(() => clearInterval(timer))
  const { port, stats, logged } = await startApp(t, {
    contentType: 'text/plain',
    routes: [{ path: '/live', source: live, idleRepeatMs: 100, stallTimeoutMs: 100 }]
  })
  const slow = await RawClient.get(port, '/live?fps=0.5')
  await slow.parts(4)
  t.notOk(slow.ended, 'still open')
  newerEachTime(t, slow, 'each part a newer frame')
  t.match(stats()['/live'], { partsRepeated: 0, viewers: 1 })
  t.same(logged('server push stream ended'), [])
  slow.destroy()
  // The source gone quiet, the viewer's repeat comes after two of its own gaps.
  clearInterval(timer)
  const quiet = await RawClient.get(port, '/live?fps=0.5')
  await quiet.parts(2)
  t.equal(stats()['/live']?.partsRepeated, 1, 'repeated once the source is quiet')
  quiet.destroy()
})

t.test('maxStreamMs over HTTP/1.1: the stream ends well-formed after its parts, logged max-duration; a route\'s 0 keeps its stream', async (t) => {
  const { port, logged } = await startApp(t, {
    contentType: 'text/plain',
    maxStreamMs: 1000,
    routes: [
      { path: '/live', source: busySource(t), maxFps: 10 },
      { path: '/files', source: fromFiles(threeFiles()), intervalMs: 100 },
      // The watch's only task: no stall timeout, no idle repeat.
      { path: '/held', source: async function * ({ signal }) { yield 'held'; await aborted(signal) }, stallTimeoutMs: 0, idleRepeatMs: 0 },
      { path: '/forever', source: busySource(t), maxFps: 10, maxStreamMs: 0 }
    ]
  })
  const forever = await RawClient.get(port, '/forever')
  for (const path of ['/live', '/files', '/held']) {
    const client = await RawClient.get(port, path)
    const { multipart } = await client.end()
    t.ok(multipart.closed, `${path}: the close delimiter`)
    t.equal(multipart.epilogue.toString('latin1'), '\r\n', `${path}: nothing after it`)
    t.ok(multipart.parts.length >= 2, `${path}: ${multipart.parts.length} parts, the last one again`)
    // A live viewer ends on the newest frame, which may have come after its last part.
    if (path !== '/live') t.equal(bodies(multipart.parts).at(-1), bodies(multipart.parts).at(-2), `${path}: ends on its last part again`)
  }
  t.match(logged('server push stream ended'), [{ route: '/live', reason: 'max-duration' }, { route: '/files', reason: 'max-duration' }, { route: '/held', reason: 'max-duration' }])
  await forever.parts(20)
  t.notOk(forever.ended, 'the route of maxStreamMs 0 keeps its stream')
  forever.destroy()
})

/** Two streams in turn on one HTTP/2 session to `origin`: each ends well-formed, and the session serves the next. */
async function twoTurns (t: Test, origin: string): Promise<void> {
  const session = connect(t, origin)
  for (const turn of ['first', 'second']) {
    const response = await request(session, '/live')
    t.equal(response.headers[':status'], 200, turn)
    await response.ended
    const { closed, parts, epilogue } = response.parts()
    t.ok(closed && epilogue.toString('latin1') === '\r\n', `${turn}: the close delimiter, nothing after`)
    t.ok(parts.length >= 2, `${turn}: ${parts.length} parts`)
    t.equal(response.stream.rstCode, 0, `${turn}: ended, not reset`)
  }
  t.notOk(session.closed || session.destroyed, 'the connection is still open')
}

t.test('maxStreamMs over HTTP/2: the stream ends well-formed, logged max-duration, and the connection serves the next one', async (t) => {
  const options = { contentType: 'text/plain', boundary: 'B', routes: [{ path: '/live', source: busySource(t), maxFps: 10, maxStreamMs: 1000 }] }
  const { port, logged } = await startApp(t, options, { fastify: { http2: true } })
  await twoTurns(t, `http://127.0.0.1:${port}`)
  await eventually(() => logged('server push stream ended').length === 2)
  t.match(logged('server push stream ended'), [{ reason: 'max-duration' }, { reason: 'max-duration' }])
  // Over TLS, as browsers speak HTTP/2.
  const { origin } = await serve(t, 'h2', options)
  await twoTurns(t, origin)
})
