// The `chunked` setting: an HTTP/1.1 stream in chunks, its multipart bytes those of the close-delimited stream, one
// chunk per write; HTTP/1.0 and HTTP/2 untouched; and Python's requests and aiohttp (Debian's) reading each part as
// it comes, where requests reads a close-delimited body to its end first.
import { once } from 'node:events'
import http from 'node:http'
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import pino from 'pino'
import serverPush, { createLiveSource, type PushRouteOptions } from '../lib/index.js'
import { guardStreamConnections } from '../lib/core/connection.js'
import { startSocketStream } from '../lib/core/http1-sink.js'
import { createPushHandler } from '../lib/node.js'
import { COPY_LIMIT } from '../lib/core/wire.js'
import { eventually, startApp } from './helpers/app.js'
import { run } from './helpers/child.js'
import { untilStill } from './helpers/full-socket.js'
import { connect, request, serve } from './helpers/protocols.js'
import { parseMultipart, RawClient } from './helpers/wire-client.js'

/** A big body, laid out as header block, body and delimiter rather than copied into one buffer. */
const BIG = 'x'.repeat(COPY_LIMIT + 1)
/** Frames of every layout: small ones, a big one, and one of another type (a new header block in advance framing). */
const FRAMES = ['one', BIG, { body: '<p>three</p>', contentType: 'text/html' }, 'four']

/** A route that sends `FRAMES` and ends, well-formed; `chunked` as the route sets it, or not at all. */
function finite (path: string, chunked?: boolean): PushRouteOptions {
  return { path, ...(chunked === undefined ? {} : { chunked }), boundary: 'B', contentType: 'text/plain', idleRepeatMs: 0, source: async function * () { yield * FRAMES } }
}

/** A route that sends a numbered part every 100 ms and never ends. */
function endless (path: string, chunked: boolean): PushRouteOptions {
  let n = 0
  return { path, chunked, boundary: 'B', contentType: 'text/plain', intervalMs: 100, source: () => `part ${++n}` }
}

/** Reads a chunked body strictly: each chunk's size line, its bytes and CRLF, then the last chunk and nothing after. */
function dechunk (body: Buffer): { bytes: Buffer, chunks: number } {
  const pieces: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd === -1) throw new Error('a chunk-size line without its end')
    const line = body.subarray(offset, lineEnd).toString('latin1')
    if (!/^[0-9a-f]+$/.test(line)) throw new Error(`not a chunk-size line: ${JSON.stringify(line)}`)
    const size = parseInt(line, 16)
    const start = lineEnd + 2
    if (size === 0) {
      if (body.subarray(start).toString('latin1') !== '\r\n') throw new Error('bytes after the last chunk')
      return { bytes: Buffer.concat(pieces), chunks: pieces.length }
    }
    if (body.subarray(start + size, start + size + 2).toString('latin1') !== '\r\n') throw new Error(`chunk of ${size} bytes not followed by CRLF`)
    pieces.push(body.subarray(start, start + size))
    offset = start + size + 2
  }
}

/** The whole response to `path` (the stream ends by itself): its head, and its body as it came, chunks and all. */
async function whole (port: number, path: string, version = '1.1', method = 'GET'): Promise<{ head: string, body: Buffer }> {
  const client = await RawClient.get(port, path, { version, method })
  await client.closed
  const end = client.data.indexOf('\r\n\r\n') + 4
  return { head: client.data.subarray(0, end).toString('latin1'), body: client.data.subarray(end) }
}

t.test('a chunked stream carries the close-delimited stream\'s bytes, one chunk per write, in both framings', async (t) => {
  // Set for every route, and turned off for one.
  const { port, stats } = await startApp(t, { chunked: true, routes: [finite('/plain', false), finite('/chunked')] })
  for (const framing of ['standard', 'advance']) {
    const plain = await whole(port, `/plain?framing=${framing}`)
    const chunked = await whole(port, `/chunked?framing=${framing}`)
    t.notMatch(plain.head, /Transfer-Encoding/i, `${framing}: unchunked, the body is close-delimited`)
    t.equal(chunked.head, plain.head.replace(/^(.*\r\nContent-Type: .*?\r\n)/, '$1Transfer-Encoding: chunked\r\n'),
      `${framing}: the same head, chunked`)
    t.match(chunked.head, /\r\nConnection: close\r\n/, `${framing}: the connection still carries this stream alone`)
    const { bytes, chunks } = dechunk(chunked.body)
    t.ok(bytes.equals(plain.body), `${framing}: de-chunked, the very bytes of the unchunked stream`)
    const { parts, closed } = parseMultipart(plain.body, 'B')
    t.ok(closed)
    // Advance framing ends the announced part empty before a part of another type.
    t.equal(parts.filter(({ body }) => body.length > 0).length, FRAMES.length + 1, `${framing}: every frame, and the last again at the close`)
    t.equal(chunks, FRAMES.length + 2, `${framing}: the opening, each part and the close, one chunk each`)
  }
  const { '/plain': plainStats, '/chunked': chunkedStats } = stats()
  t.equal(chunkedStats?.bytesSent, plainStats?.bytesSent, 'bytesSent counts the multipart bytes, not the chunk lines')
  t.equal(chunkedStats?.partsSent, plainStats?.partsSent)
})

t.test('two chunked routes taking turns on one source: each stream de-chunks to its own parts', async (t) => {
  // Boundaries of two lengths: each frame is written in two sizes, one route's viewer after the other's.
  const source = createLiveSource({ timestamps: false })
  const route = (path: string, boundary: string): PushRouteOptions => ({ path, chunked: true, boundary, contentType: 'text/plain', idleRepeatMs: 0, source })
  const { port } = await startApp(t, { routes: [route('/short', 'B'), route('/long', 'BBBBBBBBBBBB')] })
  const viewers = await Promise.all(['/short', '/long'].map(async (path) => {
    const client = await RawClient.get(port, path)
    // The opening delimiter, in its chunk: the viewer has joined.
    await client.until((data) => data.includes('\r\n--B'))
    return client
  }))
  // Each frame goes to both viewers as it is published, one write each, in turn: the sizes alternate, and repeat.
  const published = ['frame', 'frame', 'frame', 'other frame']
  for (const frame of published) source.publish(frame)
  source.close()
  for (const [viewer, boundary] of [[viewers[0], 'B'], [viewers[1], 'BBBBBBBBBBBB']] as const) {
    await viewer?.closed
    const data = viewer?.data ?? Buffer.alloc(0)
    const { bytes } = dechunk(data.subarray(data.indexOf('\r\n\r\n') + 4))
    const { parts, closed } = parseMultipart(bytes, boundary)
    t.ok(closed, `${boundary}: well-formed`)
    t.same(parts.map((part) => part.body.toString()), [...published, 'other frame'], `${boundary}: every frame, and the last again at the close`)
  }
})

t.test('a chunked sink writes no chunk for nothing: a chunk of size 0 is the last one, and would end the body', async (t) => {
  const server = http.createServer((req) => {
    const sink = startSocketStream(req, { route: '/empty', log: pino({ level: 'silent' }), contentType: 'text/plain', headers: [], opening: Buffer.from('--B\r\n'), headOnly: false, chunked: true })
    sink?.write(Buffer.alloc(0))
    sink?.writeAll([])
    sink?.writeAll([Buffer.alloc(0), Buffer.alloc(0)])
    sink?.write(Buffer.from('x'))
    sink?.end([Buffer.alloc(0)])
  })
  guardStreamConnections(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const { head, body } = await whole((server.address() as { port: number }).port, '/empty')
  t.match(head, /\r\nTransfer-Encoding: chunked\r\n/)
  const { bytes, chunks } = dechunk(body)
  t.equal(bytes.toString(), '--B\r\nx', 'the opening and the one byte, then the last chunk, once')
  t.equal(chunks, 2)
})

t.test('a chunked stream that waits for a reader (Node holding a part) puts nothing of the wait on the wire', async (t) => {
  const COUNT = 300
  let pulls = 0
  let paused: () => void = () => {}
  const reading = new Promise<void>((resolve) => { paused = resolve })
  // 1.2 MB in all once the reader has stopped: more than its receive buffer and the 16 KiB the kernel holds unsent.
  const source = async function * (): AsyncGenerator<string> {
    await reading
    while (pulls < COUNT) yield `${++pulls} `.padEnd(4096, '.')
  }
  const { port } = await startApp(t, { routes: [{ path: '/slow', chunked: true, boundary: 'B', contentType: 'text/plain', idleRepeatMs: 0, source }] })
  const client = await RawClient.get(port, '/slow')
  await client.until((data) => data.includes('--B'))
  client.socket.pause()
  paused()
  await untilStill(() => pulls, 'the stream waits for the reader')
  t.ok(pulls < COUNT, `it waited at ${pulls} of ${COUNT} parts`)
  client.socket.resume()
  await eventually(() => client.ended, 'the stream ends once read')
  const data = client.data
  const { bytes } = dechunk(data.subarray(data.indexOf('\r\n\r\n') + 4))
  const { parts, closed } = parseMultipart(bytes, 'B')
  t.ok(closed, 'well-formed, one last chunk at its end')
  t.same(parts.slice(0, COUNT).map((part) => parseInt(part.body.toString(), 10)), Array.from({ length: COUNT }, (_, i) => i + 1), 'every part, in order')
})

t.test('HTTP/1.0 gets the close-delimited body; a HEAD request the chunked head alone', async (t) => {
  const { port } = await startApp(t, { routes: [finite('/plain', false), finite('/chunked', true)] })
  const plain = await whole(port, '/plain', '1.0')
  const old = await whole(port, '/chunked', '1.0')
  t.match(old.head, /^HTTP\/1\.0 200 OK\r\n/)
  t.notMatch(old.head, /Transfer-Encoding/i, 'HTTP/1.0 knows no chunks')
  t.ok(old.body.equals(plain.body), 'the same body as the unchunked route')
  const head = await whole(port, '/chunked', '1.1', 'HEAD')
  t.match(head.head, /\r\nTransfer-Encoding: chunked\r\n/, 'the head a GET gets')
  t.equal(head.body.length, 0, 'and no body, not even the last chunk')
})

t.test('HTTP/2 ignores the setting: its frames carry the parts', async (t) => {
  const { origin } = await serve(t, 'h2c', { routes: [finite('/chunked', true)] })
  const response = await request(connect(t, origin), '/chunked')
  await response.ended
  t.equal(response.headers['transfer-encoding'], undefined)
  const parsed = response.parts()
  t.ok(parsed.closed, 'the body is well-formed')
  t.same(parsed.parts.map((part) => part.body.length), [3, BIG.length, 12, 4, 4])
})

// Prints the Transfer-Encoding, then after each piece of body the client hands over: the complete parts so far and
// whether the close delimiter is in; stops after `want` parts.
const READ_PARTS = `
def report(buf, want):
    parts = buf.count(b'\\r\\n--B')
    print('read', parts, int(b'\\r\\n--B--' in buf), flush=True)
    return parts >= want
`

const REQUESTS = `import sys, requests
${READ_PARTS}
url, want = sys.argv[1], int(sys.argv[2])
with requests.get(url, stream=True, timeout=60) as r:
    print('head', r.headers.get('Transfer-Encoding', '-'), flush=True)
    buf = b''
    for data in r.iter_content(chunk_size=None):
        buf += data
        if report(buf, want): break
`

const AIOHTTP = `import sys, asyncio, aiohttp
${READ_PARTS}
async def main(url, want):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as r:
            print('head', r.headers.get('Transfer-Encoding', '-'), flush=True)
            buf = b''
            async for data in r.content.iter_any():
                buf += data
                if report(buf, want): break
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
`

/** Runs a Python client script on `url` until it has `want` parts; its report lines, as [parts, closed]. */
async function python (t: Test, script: string, url: string, want: number): Promise<{ head: string, reads: Array<[number, number]> }> {
  // Debian's Python, whose packages the test asks for (test/system-packages.mjs), whatever python3 the PATH has.
  const { code, stdout, stderr } = await run('/usr/bin/python3', ['-c', script, url, String(want)])
  t.equal(code, 0, stderr)
  const lines = stdout.trim().split('\n')
  const head = (lines.shift() ?? '').replace(/^head /, '')
  return { head, reads: lines.map((line) => line.split(' ').slice(1).map(Number) as [number, number]) }
}

t.test('Python requests: with chunks each part as it is sent; close-delimited, nothing before the end', async (t) => {
  const { port } = await startApp(t, { routes: [finite('/plain', false), finite('/chunked', true), endless('/live', true)] })
  const live = await python(t, REQUESTS, `http://127.0.0.1:${port}/live`, 3)
  t.equal(live.head, 'chunked')
  t.same(live.reads.at(-1), [3, 0], 'three parts of a stream that stays open')
  // The same frames, to the end: chunked, the first part comes before the close; close-delimited, with it.
  const all = FRAMES.length + 1
  const chunked = await python(t, REQUESTS, `http://127.0.0.1:${port}/chunked`, 99)
  t.same(chunked.reads.find(([parts]) => parts > 0), [1, 0], 'chunked: the first part alone, the stream still open')
  t.same(chunked.reads.at(-1), [all, 1])
  const plain = await python(t, REQUESTS, `http://127.0.0.1:${port}/plain`, 99)
  t.equal(plain.head, '-')
  t.same(plain.reads.find(([parts]) => parts > 0), [all, 1], 'close-delimited: the first part only with the end of the stream')
})

t.test('Python aiohttp reads each part as it comes, chunked or not', async (t) => {
  const { port } = await startApp(t, { routes: [endless('/chunked', true), endless('/plain', false)] })
  for (const path of ['/chunked', '/plain']) {
    const { head, reads } = await python(t, AIOHTTP, `http://127.0.0.1:${port}${path}`, 3)
    t.equal(head, path === '/chunked' ? 'chunked' : '-')
    t.same(reads.at(-1), [3, 0], `${path}: three parts of a stream that stays open`)
  }
})

t.test('chunked is true or false, on the plugin, a route and createPushHandler()', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => {
    await app.register(serverPush, { routes: [{ path: '/cam', source: () => 'x', chunked: 'yes' as unknown as boolean }] })
    await app.ready()
  }, { code, message: /routes\[0\] \(\/cam\): chunked must be true or false, got "yes"/ })
  t.throws(() => createPushHandler({ source: () => 'x', chunked: 1 as unknown as boolean }), { code, message: /createPushHandler\(\): chunked must be true or false, got 1/ })
})
