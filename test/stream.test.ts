// What a push route writes on the wire, byte for byte, read back over real sockets.
import { readFileSync } from 'node:fs'
import basicAuth from '@fastify/basic-auth'
import t from 'tap'
import type { Frame, SourceContext } from '../lib/index.js'
import { aborted, fastifyOnly, startApp } from './helpers/app.js'
import { RawClient } from './helpers/wire-client.js'

const HEAD_LINES = [
  'Cache-Control: no-cache, no-store, must-revalidate, no-transform',
  'Pragma: no-cache',
  'Expires: 0',
  'X-Content-Type-Options: nosniff',
  'X-Accel-Buffering: no',
  'Connection: close'
]

t.test('a finite source: exact bytes from status line to close delimiter, last part repeated', async (t) => {
  const { port } = await startApp(t, {
    routes: [{ path: '/video.mjpg', source: () => ['a', 'bc'], boundary: 'myboundary', contentType: 'text/plain' }]
  })
  const client = await RawClient.get(port, '/video.mjpg')
  await client.closed
  const part = (body: string): string => `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`
  t.equal(client.data.toString('latin1'), [
    'HTTP/1.1 200 OK',
    'Content-Type: multipart/x-mixed-replace;boundary=myboundary',
    ...HEAD_LINES,
    '',
    '--myboundary',
    part('a'),
    '--myboundary',
    part('bc'),
    '--myboundary',
    part('bc'),
    '--myboundary--',
    ''
  ].join('\r\n'))
})

t.test('the head and the opening delimiter go out at once, before any frame', async (t) => {
  const { port } = await startApp(t, {
    routes: [{ path: '/wait', boundary: 'B', source: async function * ({ signal }) { await aborted(signal) } }]
  })
  const client = await RawClient.get(port, '/wait')
  await client.until((data) => data.toString('latin1').endsWith('\r\n\r\n--B\r\n'))
  const text = client.data.toString('latin1')
  t.match(text, /^HTTP\/1\.1 200 OK\r\nContent-Type: multipart\/x-mixed-replace;boundary=B\r\n/)
  t.notMatch(text.slice(0, text.indexOf('\r\n\r\n')), /Transfer-Encoding|Content-Length/i, 'close-delimited')
  client.destroy()
})

t.test('each part goes out with its delimiter, so a delimiter-scanning client can show it at once', async (t) => {
  const { port } = await startApp(t, {
    routes: [{
      path: '/one',
      boundary: 'B',
      contentType: 'image/jpeg',
      source: async function * ({ signal }) {
        yield Buffer.from([0xff, 0xd8, 0xff, 0xd9])
        await aborted(signal)
      }
    }]
  })
  const client = await RawClient.get(port, '/one')
  await client.until((data) => data.toString('latin1').endsWith('\xff\xd8\xff\xd9\r\n--B\r\n'))
  const res = await client.parts(1)
  t.same(res.multipart.parts[0]?.rawHeaders, ['Content-Type: image/jpeg', 'Content-Length: 4'])
  client.destroy()
})

t.test('the default boundary is random, shared by the clients of a route, different per route', async (t) => {
  const { port } = await startApp(t, {
    routes: [{ path: '/a', source: () => 'a', intervalMs: 20 }, { path: '/b', source: () => 'b', intervalMs: 20 }]
  })
  const clients = await Promise.all(['/a', '/a', '/b'].map((path) => RawClient.get(port, path)))
  const [a1, a2, b] = await Promise.all(clients.map((client) => client.parts(2)))
  t.match(a1?.boundary, /^[0-9a-f]{32}$/)
  t.equal(a1?.boundary, a2?.boundary)
  t.not(a1?.boundary, b?.boundary)
  t.equal(a1?.multipart.parts[0]?.body.toString(), 'a')
  for (const client of clients) client.destroy()
})

t.test('every kind of frame becomes a part with its own type, exact Content-Length and headers', async (t) => {
  const jpeg = readFileSync(new URL('../example-app/frames/thumb_1.jpg', import.meta.url))
  const backing = new Uint8Array([9, 1, 2, 3, 9])
  const frames: Frame[] = [
    jpeg,
    new Uint8Array(backing.buffer, 1, 3),
    'héllo ☃',
    { body: '<b>hi</b>', contentType: 'text/html; charset=utf-8', headers: { 'X-Frame': 4, 'X-Multi': ['a', 'b'] } },
    { body: Buffer.from('png'), contentType: 'image/png' }
  ]
  const { port } = await startApp(t, { routes: [{ path: '/kinds', source: () => frames }] })
  const res = await (await RawClient.get(port, '/kinds')).end()
  const parts = res.multipart.parts
  t.equal(parts.length, 6, 'five frames and the last one repeated')
  t.ok(parts[0]?.body.equals(jpeg), 'a JPEG arrives byte for byte')
  t.same(parts[0]?.rawHeaders, ['Content-Type: image/jpeg', `Content-Length: ${jpeg.length}`], 'image/jpeg is the default type')
  t.same([...parts[1]?.body ?? []], [1, 2, 3], 'a Uint8Array view sends only its own bytes')
  t.equal(parts[2]?.body.toString('utf8'), 'héllo ☃')
  t.equal(parts[2]?.headers['content-length'], String(Buffer.byteLength('héllo ☃')), 'Content-Length counts UTF-8 bytes')
  t.same(parts[3]?.rawHeaders, ['Content-Type: text/html; charset=utf-8', 'Content-Length: 9', 'X-Frame: 4', 'X-Multi: a', 'X-Multi: b'])
  t.equal(parts[4]?.headers['content-type'], 'image/png')
  t.ok(res.multipart.closed)
})

t.test('HTTP/1.0 requests get an HTTP/1.0 status line', async (t) => {
  const { port } = await startApp(t, { routes: [{ path: '/x', source: () => ['a'] }] })
  const res = await (await RawClient.get(port, '/x', { version: '1.0' })).end()
  t.equal(res.statusLine, 'HTTP/1.0 200 OK')
  t.ok(res.multipart.closed)
})

t.test('HEAD gets the head only and starts no source', async (t) => {
  let calls = 0
  const { port } = await startApp(t, {
    routes: [{ path: '/x', boundary: 'B', source: () => { calls++; return 'a' } }]
  })
  const client = await RawClient.get(port, '/x', { method: 'HEAD' })
  await client.closed
  t.equal(client.data.toString('latin1'),
    ['HTTP/1.1 200 OK', 'Content-Type: multipart/x-mixed-replace;boundary=B', ...HEAD_LINES, '', ''].join('\r\n'))
  t.equal(calls, 0)
})

fastifyOnly('a hook that rejects (basic auth) answers normally and no stream starts', async (t) => {
  let calls = 0
  const { port } = await startApp(t, {
    routes: [{ path: '/private', source: () => { calls++; return ['secret'] }, contentType: 'text/plain' }]
  }, {
    setup: async (app) => {
      await app.register(basicAuth, { validate: async (user, pass) => { if (user !== 'cam' || pass !== 'pw') throw new Error('no') }, authenticate: true })
      app.addHook('onRequest', app.basicAuth)
    }
  })
  const denied = await RawClient.get(port, '/private', { headers: ['Connection: close'] })
  await denied.closed
  const text = denied.data.toString('latin1')
  t.match(text, /^HTTP\/1\.1 401 Unauthorized\r\n/)
  t.match(text, /www-authenticate: Basic/i)
  t.equal(calls, 0)
  const allowed = await RawClient.get(port, '/private', { headers: [`Authorization: Basic ${Buffer.from('cam:pw').toString('base64')}`] })
  const res = await allowed.end()
  t.equal(res.statusLine, 'HTTP/1.1 200 OK')
  t.equal(res.multipart.parts[0]?.body.toString(), 'secret')
  t.equal(calls, 1)
})

fastifyOnly('headers merge: stream defaults < plugin < route < hooks; the plugin keeps its own', async (t) => {
  const { port } = await startApp(t, {
    headers: { 'Cache-Control': 'private, no-store', 'X-Plugin': 'plugin', 'X-Both': 'plugin' },
    routes: [{ path: '/x', source: () => ['a'], boundary: 'B', headers: { 'X-Both': 'route', 'X-Route': 'route' } }]
  }, {
    setup: (app) => {
      app.addHook('onRequest', async (_request, reply) => {
        reply.header('Access-Control-Allow-Origin', '*')
        reply.header('X-Route', 'hook')
        reply.header('Set-Cookie', ['a=1', 'b=2'])
        reply.header('Content-Type', 'text/plain')
        reply.header('Content-Length', '5')
        reply.header('Connection', 'keep-alive')
      })
    }
  })
  const res = await (await RawClient.get(port, '/x')).end()
  t.same(res.headerLines, [
    'Content-Type: multipart/x-mixed-replace;boundary=B',
    'Cache-Control: private, no-store',
    ...HEAD_LINES.slice(1),
    'X-Plugin: plugin',
    'X-Both: route',
    'X-Route: hook',
    'access-control-allow-origin: *',
    'set-cookie: a=1',
    'set-cookie: b=2'
  ])
})

fastifyOnly('a header set by a hook that would split the response is a plain 500, no stream', async (t) => {
  let calls = 0
  const { port, logs } = await startApp(t, { routes: [{ path: '/x', source: () => { calls++; return 'a' } }] }, {
    setup: (app) => { app.addHook('onRequest', async (_request, reply) => { reply.header('X-Evil', 'a\r\nInjected: 1') }) }
  })
  const client = await RawClient.get(port, '/x', { headers: ['Connection: close'] })
  await client.closed
  const text = client.data.toString('latin1')
  t.match(text, /^HTTP\/1\.1 500 /)
  t.notMatch(text, /\r\nInjected: 1\r\n/)
  t.ok(logs.some((line) => (line.err as { code?: string } | undefined)?.code === 'FST_SERVER_PUSH_INVALID_HEADER'), 'the cause is logged')
  t.equal(calls, 0)
})

fastifyOnly('prefix is prepended to every path; the source sees the request and its params', async (t) => {
  const { port } = await startApp(t, {
    prefix: '/cams/',
    routes: [{ path: '/:id.mjpg', contentType: 'text/plain', source: ({ request }: SourceContext) => [`cam ${(request.params as { id: string }).id}`] }]
  })
  const res = await (await RawClient.get(port, '/cams/7.mjpg')).end()
  t.equal(res.multipart.parts[0]?.body.toString(), 'cam 7')
  const missing = await RawClient.get(port, '/7.mjpg', { headers: ['Connection: close'] })
  await missing.closed
  t.match(missing.data.toString('latin1'), /^HTTP\/1\.1 404 /)
})
