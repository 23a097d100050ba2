// Framing per viewer (standard for cameras' clients, advance for browsers), the idle repeat, and the page that
// shows a text/html push route to a browser that cannot, all read back over real sockets.
import { writeFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { createLiveSource, fromDirectory, fromFiles, type PushRouteOptions } from '../lib/index.js'
import { COPY_LIMIT } from '../lib/core/wire.js'
import { aborted, eventually, startApp, tempDir } from './helpers/app.js'
import { bigFrames, pausedSocketOf, publishUntilFull } from './helpers/full-socket.js'
import { BROWSER_PREAMBLE, RawClient, type ParsedResponse } from './helpers/wire-client.js'

const CHROME_UA = 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'
const FIREFOX_UA = 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0'
const MIXED_JPEG = new URL('../example-app/frames/thumb_1.jpg', import.meta.url).pathname

/** A route that sends `bodies`, then holds the stream open. */
function holding (path: string, bodies: string[], options: Partial<PushRouteOptions> = {}): PushRouteOptions {
  return {
    path,
    boundary: 'B',
    contentType: 'text/plain',
    idleRepeatMs: 0,
    source: async function * ({ signal }) {
      yield * bodies
      await aborted(signal)
    },
    ...options
  }
}

/** The body as it comes in advance framing: each body followed by the delimiter and the next header block. */
function advanceBody (bodies: string[]): string {
  const head = '--B\r\nContent-Type: text/plain\r\n\r\n'
  return head + bodies.map((body) => `${body}\r\n${head}`).join('')
}

/** The body `path` sends, read until it is as long as `expected` (the source then holds the stream open). */
async function bodyOf (port: number, path: string, headers: string[], expected: string): Promise<string> {
  const client = await RawClient.get(port, path, { headers })
  await client.until(() => (client.response()?.body.length ?? 0) >= expected.length)
  client.destroy()
  return (client.response() as ParsedResponse).body.toString('latin1')
}

t.test('browsers get advance framing: the next header block right after each body; other clients the standard one', async (t) => {
  const bodies = ['one', 'two']
  const { port } = await startApp(t, { routes: [holding('/s', bodies)] })
  // A browser's stream starts with the preamble that WebKit needs, whatever its framing.
  const advance = BROWSER_PREAMBLE + advanceBody(bodies)
  const standard = bodies.map((body) => `--B\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}\r\n`).join('') + '--B\r\n'
  const cases: Array<[string, string[], string]> = [
    ['Chromium <img> (Sec-Fetch-Dest: image)', ['Sec-Fetch-Dest: image', CHROME_UA], advance],
    ['Sec-Fetch-Dest alone', ['Sec-Fetch-Dest: image'], advance],
    ['a page, a frame, an embed or an object', ['Sec-Fetch-Dest: embed', FIREFOX_UA], advance],
    // Without Sec-Fetch-Dest, no preamble: ffmpeg or VLC given a browser's User-Agent want the delimiter at byte 0.
    ['an older browser: Mozilla/ User-Agent, no Sec-Fetch-Dest', ['User-Agent: Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15'], advanceBody(bodies)],
    ['a browser\'s fetch() (Sec-Fetch-Dest: empty): a script may count on Content-Length', ['Sec-Fetch-Dest: empty', CHROME_UA], standard],
    ['no User-Agent', [], standard],
    ['curl', ['User-Agent: curl/8.5.0'], standard],
    ['ffmpeg', ['User-Agent: Lavf/59.27.100'], standard],
    ['VLC', ['User-Agent: VLC/3.0.18 LibVLC/3.0.18'], standard]
  ]
  for (const [name, headers, expected] of cases) {
    t.equal(await bodyOf(port, '/s', headers, expected), expected, name)
  }
})

t.test('the reader page\'s fetch (Accept: multipart/mixed) gets the same bytes as multipart/mixed; any other Accept the stream type', async (t) => {
  const { port } = await startApp(t, { routes: [holding('/s', ['x'])] })
  const typeOf = async (headers: string[]): Promise<string> => {
    const client = await RawClient.get(port, '/s', { headers })
    // The first part's body and the delimiter after it, in either framing.
    await client.until((data) => data.toString('latin1').includes('x\r\n--B\r\n'))
    client.destroy()
    return /^content-type: (.*)$/im.exec(client.data.toString('latin1'))?.[1]?.trim() ?? ''
  }
  t.equal(await typeOf(['Sec-Fetch-Dest: empty', 'Accept: multipart/mixed']), 'multipart/mixed;boundary=B')
  t.equal(await typeOf(['Sec-Fetch-Dest: empty']), 'multipart/x-mixed-replace;boundary=B')
  t.equal(await typeOf(['Sec-Fetch-Dest: empty', 'Accept: */*']), 'multipart/x-mixed-replace;boundary=B')
  // A request that says it renders the stream (as an image) is no script's fetch, whatever it accepts: it gets the
  // type and the framing an image gets (ffmpeg given both headers by a user copying a browser's got no frame).
  t.equal(await typeOf(['Sec-Fetch-Dest: image', 'Accept: multipart/mixed']), 'multipart/x-mixed-replace;boundary=B')
})

t.test('?framing= forces either framing for one request; a bad value is a 400 that names it', async (t) => {
  const bodies = ['x']
  const { port } = await startApp(t, { routes: [holding('/s', bodies)] })
  const standard = '--B\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx\r\n--B\r\n'
  const browser = BROWSER_PREAMBLE + standard
  t.equal(await bodyOf(port, '/s?framing=standard', ['Sec-Fetch-Dest: image', CHROME_UA], browser), browser, 'a browser asking for standard')
  t.equal(await bodyOf(port, '/s?framing=advance', ['User-Agent: curl/8.5.0'], advanceBody(bodies)), advanceBody(bodies), 'curl asking for advance')
  for (const query of ['framing=fast', 'framing=', 'framing=standard&framing=advance']) {
    const res = await fetch(`http://127.0.0.1:${port}/s?${query}`)
    t.equal(res.status, 400, query)
    const body = await res.json() as { code: string, message: string }
    t.equal(body.code, 'FST_SERVER_PUSH_BAD_FRAMING')
    t.match(body.message, /framing must be standard or advance, got /)
  }
  // A value made to be echoed as markup: the answer is never taken for another type, and does not carry it.
  const res = await fetch(`http://127.0.0.1:${port}/s?framing=${encodeURIComponent('<script>alert(1)</script>')}`)
  t.equal(res.status, 400)
  t.equal(res.headers.get('x-content-type-options'), 'nosniff')
  const text = await res.text()
  t.notMatch(text, /<|script/, 'the value is not echoed')
  t.match(text, /framing must be standard or advance, got a value that is neither/)
})

t.test('the route option framing gives every client one framing; the query still overrides it', async (t) => {
  const bodies = ['x']
  const { port } = await startApp(t, {
    framing: 'advance',
    routes: [holding('/std', bodies, { framing: 'standard' }), holding('/adv', bodies)]
  })
  const standard = '--B\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx\r\n--B\r\n'
  t.equal(await bodyOf(port, '/std', ['Sec-Fetch-Dest: image', CHROME_UA], BROWSER_PREAMBLE + standard), BROWSER_PREAMBLE + standard, 'route standard: a browser too')
  t.equal(await bodyOf(port, '/adv', [], advanceBody(bodies)), advanceBody(bodies), 'plugin-level advance: a plain client too')
  t.equal(await bodyOf(port, '/std?framing=advance', [], advanceBody(bodies)), advanceBody(bodies))
})

t.test('advance framing: parts carry their Content-Type only; a new type ends the announced part empty', async (t) => {
  const { port } = await startApp(t, {
    routes: [{
      path: '/s',
      boundary: 'B',
      source: () => [{ body: 'a', headers: { 'X-Frame': '1' } }, { body: 'b', contentType: 'image/png' }]
    }]
  })
  const client = await RawClient.get(port, '/s?framing=advance')
  const { multipart } = await client.end()
  t.equal(multipart.closed, true)
  t.same(multipart.parts.map((part) => [part.rawHeaders, part.body.toString()]), [
    [['Content-Type: image/jpeg'], 'a'],
    [['Content-Type: image/jpeg'], ''],
    [['Content-Type: image/png'], 'b'],
    [['Content-Type: image/png'], 'b']
  ], 'the last part repeated before the close, as in standard framing')
})

t.test('bodies over COPY_LIMIT, written without a copy, come out byte for byte in both framings, across a change of type', async (t) => {
  const big = 'a'.repeat(COPY_LIMIT + 1)
  const png = 'p'.repeat(COPY_LIMIT + 2)
  const { port, stats } = await startApp(t, {
    routes: [{ path: '/s', boundary: 'B', contentType: 'text/plain', source: () => [big, { body: png, contentType: 'image/png' }, 'small'] }]
  })
  const standard = (await (await RawClient.get(port, '/s?framing=standard')).end()).multipart
  t.equal(standard.closed, true)
  t.same(standard.parts.map((part) => [part.rawHeaders, part.body.toString()]), [
    [['Content-Type: text/plain', `Content-Length: ${big.length}`], big],
    [['Content-Type: image/png', `Content-Length: ${png.length}`], png],
    [['Content-Type: text/plain', 'Content-Length: 5'], 'small'],
    [['Content-Type: text/plain', 'Content-Length: 5'], 'small']
  ])
  const partBytes = (type: string, body: string): number => `Content-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n${body}\r\n--B\r\n`.length
  t.equal(stats()['/s']?.bytesSent, partBytes('text/plain', big) + partBytes('image/png', png) + partBytes('text/plain', 'small'), 'every byte counted')
  const advance = (await (await RawClient.get(port, '/s?framing=advance')).end()).multipart
  t.equal(advance.closed, true)
  t.same(advance.parts.map((part) => [part.rawHeaders, part.body.toString()]), [
    [['Content-Type: text/plain'], big],
    [['Content-Type: text/plain'], ''],
    [['Content-Type: image/png'], png],
    [['Content-Type: image/png'], ''],
    [['Content-Type: text/plain'], 'small'],
    [['Content-Type: text/plain'], 'small']
  ])
})

t.test('advance framing opens with the first header block, before any frame; with no part ever sent, that part ends empty', async (t) => {
  const { close, port } = await startApp(t, { routes: [holding('/s', [])] })
  // WebKitGTK's HTTP/2 reader (libsoup before 3.7.1) crashes or loses the stream when it waits for a header block.
  const browser = await RawClient.get(port, '/s', { headers: ['Sec-Fetch-Dest: image', CHROME_UA] })
  await browser.until((data) => data.toString('latin1').endsWith(`\r\n\r\n${BROWSER_PREAMBLE}--B\r\nContent-Type: text/plain\r\n\r\n`))
  const client = await RawClient.get(port, '/s?framing=advance')
  await client.until((data) => data.toString('latin1').endsWith('\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n'))
  await close()
  const { multipart, body } = await client.end()
  t.equal(body.toString('latin1'), '--B\r\nContent-Type: text/plain\r\n\r\n\r\n--B--\r\n')
  t.equal(multipart.closed, true)
  t.same(multipart.parts.map((part) => [part.rawHeaders, part.body.length]), [[['Content-Type: text/plain'], 0]])
  t.equal((await browser.end()).multipart.closed, true)
})

t.test('one live frame goes to standard and advance viewers alike, and is counted as one part each', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { stats, port } = await startApp(t, { routes: [{ path: '/live', source: live, boundary: 'B', contentType: 'text/plain', idleRepeatMs: 0 }] })
  const standard = await RawClient.get(port, '/live')
  const advance = await RawClient.get(port, '/live', { headers: ['Sec-Fetch-Dest: image'] })
  await Promise.all([standard.opened(), advance.opened()])
  live.publish('frame')
  const [s, a] = await Promise.all([standard.parts(1), advance.parts(1)])
  t.same(s.multipart.parts[0]?.rawHeaders, ['Content-Type: text/plain', 'Content-Length: 5'])
  t.same(a.multipart.parts[0]?.rawHeaders, ['Content-Type: text/plain'])
  t.equal(a.multipart.parts[0]?.body.toString(), 'frame')
  const counted = stats()['/live']
  t.equal(counted?.partsSent, 2)
  // The advance viewer's first header block went out with the opening, which is not a part.
  const advancePart = 'frame\r\n--B\r\nContent-Type: text/plain\r\n\r\n'.length
  const standardPart = 'Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nframe\r\n--B\r\n'.length
  t.equal(counted?.bytesSent, advancePart + standardPart, 'each viewer counted with the bytes of its own framing')
})

t.test('the stream-ended log line says which framing the viewer had', async (t) => {
  const { port, logged } = await startApp(t, { routes: [holding('/s', ['x'])] })
  await RawClient.visit(port, '/s', 1)
  const browser = await RawClient.get(port, '/s', { headers: ['Sec-Fetch-Dest: image'] })
  await browser.parts(1)
  browser.destroy()
  await eventually(() => logged('server push stream ended').length === 2)
  t.same(logged('server push stream ended').map((line) => line.framing), ['standard', 'advance'])
})

t.test('idle repeat: a quiet source gets its last part sent again, at the period, to every viewer', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { stats, port } = await startApp(t, { routes: [{ path: '/live', source: live, boundary: 'B', contentType: 'text/plain', idleRepeatMs: 100 }] })
  const clients = [await RawClient.get(port, '/live'), await RawClient.get(port, '/live', { headers: ['Sec-Fetch-Dest: image'] })]
  await Promise.all(clients.map((client) => client.opened()))
  live.publish('still')
  const started = Date.now()
  for (const client of clients) {
    const { multipart } = await client.parts(4)
    t.same(multipart.parts.slice(0, 4).map((part) => part.body.toString()), ['still', 'still', 'still', 'still'])
  }
  const elapsed = Date.now() - started
  t.ok(elapsed >= 3 * 100, `three repeats took at least three periods (${elapsed} ms)`)
  t.ok((stats()['/live']?.partsRepeated ?? 0) >= 6)
  for (const client of clients) client.destroy()
})

t.test('idle repeat costs nothing while frames flow faster than its period', async (t) => {
  const idleRepeatMs = 300
  const live = createLiveSource({ timestamps: false })
  const { stats, port } = await startApp(t, { routes: [{ path: '/live', source: live, contentType: 'text/plain', idleRepeatMs }] })
  const client = await RawClient.get(port, '/live')
  await client.opened()
  // Frames for three periods, each a moment after the last one arrived. A repeat may only follow a gap of a whole
  // period, which a busy machine can make; the gaps are measured, not assumed.
  const started = Date.now()
  let last = started
  let longGaps = 0
  for (let i = 1; Date.now() - started < 3 * idleRepeatMs; i++) {
    live.publish(`frame ${i}`)
    await client.parts(i)
    await new Promise((resolve) => setTimeout(resolve, 10))
    if (Date.now() - last >= idleRepeatMs) longGaps++
    last = Date.now()
  }
  t.ok((stats()['/live']?.partsRepeated ?? 0) <= longGaps, `no repeat but after a gap of a period (${longGaps} such gaps)`)
  client.destroy()
})

t.test('idle repeat waits at least twice intervalMs, so a source keeping its pace is never repeated; 0 turns it off', async (t) => {
  const { stats, port } = await startApp(t, {
    routes: [
      holding('/slow', ['x'], { idleRepeatMs: 100, intervalMs: 150 }),
      holding('/off', ['x'], { idleRepeatMs: 0, stallTimeoutMs: 10_000 })
    ]
  })
  const slow = await RawClient.get(port, '/slow')
  const off = await RawClient.get(port, '/off')
  await Promise.all([slow.parts(1), off.parts(1)])
  const started = Date.now()
  await slow.parts(3)
  t.ok(Date.now() - started >= 2 * 2 * 150, 'two repeats, each after twice the route\'s interval')
  t.equal(off.response()?.multipart.parts.length, 1, 'no repeat on the route with idleRepeatMs: 0')
  t.equal(stats()['/off']?.partsRepeated, 0)
  slow.destroy()
  off.destroy()
})

t.test('with idle repeat and stall timeout both off, a quiet stream stays open with its one part', async (t) => {
  const { stats, port, logged } = await startApp(t, { idleRepeatMs: 0, stallTimeoutMs: 0, routes: [holding('/s', ['x'])] })
  const client = await RawClient.get(port, '/s')
  await client.parts(1)
  // The control: the default repeat, on another app, opened later. Once it has repeated, /s would have too.
  const control = await startApp(t, { routes: [holding('/s', ['x'], { idleRepeatMs: undefined })] })
  const controlClient = await RawClient.get(control.port, '/s')
  await controlClient.parts(2)
  t.equal(client.response()?.multipart.parts.length, 1)
  t.equal(stats()['/s']?.partsRepeated, 0)
  t.same(logged('server push stream ended'), [])
  client.destroy()
  controlClient.destroy()
})

t.test('a client whose socket is full gets no repeat written on top: it is cut off as stalled', async (t) => {
  const live = createLiveSource()
  const paused = pausedSocketOf()
  const { stats, port, logged } = await startApp(t, {
    routes: [{ path: '/big', source: live, idleRepeatMs: 100, stallTimeoutMs: 300 }]
  }, paused)
  const client = await RawClient.get(port, '/big', { headers: ['X-Pause: 1'] })
  await client.opened()
  client.socket.pause()
  await publishUntilFull(bigFrames(live).publish, paused.socket())
  const repeated = stats()['/big']?.partsRepeated
  await eventually(() => logged('server push stream ended').length === 1)
  t.equal(logged('server push stream ended')[0]?.reason, 'stalled')
  t.equal(stats()['/big']?.partsRepeated, repeated, 'no repeat once the socket was full')
  client.destroy()
})

t.test('a pull stream waits for a socket that a repeat filled before it writes the next frame', async (t) => {
  const big = Buffer.alloc(4 << 20, 1)
  let release: () => void = () => {}
  const second = new Promise<void>((resolve) => { release = resolve })
  let pulledSecond = false
  const { stats, port } = await startApp(t, {
    routes: [{
      path: '/big',
      idleRepeatMs: 100,
      source: async function * () {
        yield big
        await second
        pulledSecond = true
        yield Buffer.alloc(4 << 20, 2)
      }
    }]
  }, { onConnection: (socket) => { serverSocket = socket } })
  let serverSocket: Socket | undefined
  const client = await RawClient.get(port, '/big')
  await client.parts(1)
  client.socket.pause()
  await eventually(() => (stats()['/big']?.partsRepeated ?? 0) >= 1 && serverSocket?.writableNeedDrain === true)
  release()
  await eventually(() => pulledSecond)
  // The second frame reached the stream in the turn it was pulled; had it been written, it would be there now.
  await new Promise((resolve) => setImmediate(resolve))
  t.ok((serverSocket?.writableLength ?? 0) < (4 << 20) + 1024, `one part at most waits in the socket (${serverSocket?.writableLength} bytes)`)
  client.socket.resume()
  await client.until(() => client.response()?.multipart.parts.some((part) => part.body[0] === 2) === true)
  const order = (client.response() as ParsedResponse).multipart.parts.map((part) => part.body[0])
  const at = order.indexOf(2)
  t.ok(at >= 2 && order.slice(0, at).every((first) => first === 1), `the first frame and its repeats, then the second: ${order.join(',')}`)
  client.destroy()
})

t.test('a client that leaves while its next frame waits for the socket ends the stream there', async (t) => {
  const big = Buffer.alloc(4 << 20, 1)
  let pulledSecond = false
  let serverSocket: Socket | undefined
  const { port, stats, logged } = await startApp(t, {
    routes: [{
      path: '/big',
      idleRepeatMs: 100,
      source: async function * () {
        yield big
        // The next frame only once repeats have filled the socket, however much the kernel takes.
        await eventually(() => (stats()['/big']?.partsRepeated ?? 0) >= 1 && serverSocket?.writableNeedDrain === true)
        pulledSecond = true
        yield big
      }
    }]
  }, { onConnection: (socket) => { serverSocket = socket } })
  const client = await RawClient.get(port, '/big')
  await client.parts(1)
  client.socket.pause()
  await eventually(() => pulledSecond)
  client.destroy()
  await eventually(() => logged('server push stream ended').length === 1)
  t.equal(logged('server push stream ended')[0]?.reason, 'client-gone')
  t.same(logged('server push source failed'), [])
})

t.test('text/html routes default to no idle repeat: a repeated page would be a reload', async (t) => {
  const { stats, port } = await startApp(t, {
    routes: [
      holding('/page', ['<p>x</p>'], { contentType: 'text/html', idleRepeatMs: undefined }),
      // The control: the same default on another type, opened later. Once it has repeated, /page would have too.
      holding('/text', ['x'], { idleRepeatMs: undefined })
    ]
  })
  const client = await RawClient.get(port, '/page')
  await client.parts(1)
  const control = await RawClient.get(port, '/text')
  await control.parts(2)
  t.equal(stats()['/page']?.partsRepeated, 0)
  t.equal(client.response()?.multipart.parts.length, 1)
  client.destroy()
  control.destroy()
})

t.test('a file source of HTML pages gets the reader page too, told by the files\' own type', async (t) => {
  const dir = tempDir('pages')
  writeFileSync(join(dir, '1.html'), '<p>one</p>')
  writeFileSync(join(dir, '2.html'), '<p>two</p>')
  const { port } = await startApp(t, { routes: [{ path: '/pages', source: fromDirectory(dir), intervalMs: 100 }, { path: '/mixed', source: fromFiles([join(dir, '1.html'), MIXED_JPEG]) }] })
  const page = await fetch(`http://127.0.0.1:${port}/pages`, { headers: { 'Sec-Fetch-Dest': 'document', 'User-Agent': CHROME_UA.slice(12) } })
  t.match(await page.text(), /new Reader\(location\.href/)
  const mixed = await RawClient.get(port, '/mixed', { headers: ['Sec-Fetch-Dest: document', CHROME_UA] })
  t.match((await mixed.parts(1)).headers['content-type'], /^multipart\/x-mixed-replace/, 'pages mixed with images: the stream')
  mixed.destroy()
})

t.test('a text/html route opened as a page by Chromium answers the reader page; Firefox and <img> get the stream', async (t) => {
  const { port } = await startApp(t, {
    routes: [
      holding('/clock', ['<p>now</p>'], { contentType: 'text/html', headers: { 'X-Route': 'clock' } }),
      holding('/video', ['jpeg'], { contentType: 'image/jpeg' })
    ]
  })
  const pages: Array<Record<string, string>> = [
    { 'Sec-Fetch-Dest': 'document', 'User-Agent': CHROME_UA.slice(12) },
    { 'Sec-Fetch-Dest': 'iframe', 'User-Agent': CHROME_UA.slice(12) },
    { 'Sec-Fetch-Dest': 'document', 'User-Agent': 'Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15' }
  ]
  for (const headers of pages) {
    const res = await fetch(`http://127.0.0.1:${port}/clock`, { headers })
    t.equal(res.status, 200, JSON.stringify(headers))
    t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    t.equal(res.headers.get('cache-control'), 'no-cache, no-store, must-revalidate, no-transform')
    t.equal(res.headers.get('x-route'), 'clock', 'with the route\'s headers')
    const page = await res.text()
    t.match(page, /^<!doctype html>/)
    t.match(page, /new Reader\(location\.href/, 'which reads the same URL as a stream')
  }
  const noAgent = await RawClient.get(port, '/clock', { headers: ['Sec-Fetch-Dest: document', 'Connection: close'] })
  await noAgent.closed
  t.match(noAgent.data.toString(), /^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/html; charset=utf-8\r\n/i, 'a page request with no User-Agent')
  const streams: Array<[string, string, string[]]> = [
    ['Firefox renders it natively', '/clock', ['Sec-Fetch-Dest: document', FIREFOX_UA]],
    ['the page\'s own fetch()', '/clock', ['Sec-Fetch-Dest: empty', CHROME_UA]],
    ['a plain client', '/clock', []],
    ['an image route opened as a page', '/video', ['Sec-Fetch-Dest: document', CHROME_UA]]
  ]
  for (const [name, path, headers] of streams) {
    const client = await RawClient.get(port, path, { headers })
    const response = await client.parts(1)
    t.match(response.headers['content-type'], /^multipart\/x-mixed-replace;boundary=B$/, name)
    client.destroy()
  }
})
