// Push routes as ordinary Fastify routes: the `serverPush` and `serverPushSnapshot` route options, with the
// plugin's settings as defaults, and schema, hooks, constraints and prefixes working as on any route.
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import serverPush, { createLiveSource, fromFiles, type ServerPushOptions } from '../lib/index.js'
import { RawClient } from './helpers/wire-client.js'

/** A Fastify app with the plugin registered, its routes added by `routes`, listening on a free port. */
async function listening (t: Test, options: ServerPushOptions, routes: (app: FastifyInstance) => Promise<void> | void): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(serverPush, options)
  await routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as { port: number }).port }
}

const text = (body: string) => () => [body]

t.test('a route with the serverPush option is a push route, GET and HEAD, with the plugin\'s settings as defaults', async (t) => {
  let handled = 0
  const { app, port } = await listening(t, { boundary: 'P', headers: { 'X-Plugin': '1', 'X-Both': 'plugin' } }, (app) => {
    app.get('/cam', { serverPush: { source: text('hello'), contentType: 'text/plain', headers: { 'X-Both': 'route' } } }, async () => { handled++ })
  })
  const res = await (await RawClient.get(port, '/cam')).end()
  t.equal(res.headers['content-type'], 'multipart/x-mixed-replace;boundary=P', 'the plugin\'s boundary')
  t.equal(res.headers['x-plugin'], '1')
  t.equal(res.headers['x-both'], 'route', 'the route\'s header over the plugin\'s')
  t.same(res.multipart.parts.map((part) => part.body.toString()), ['hello', 'hello'])
  const head = await (await RawClient.get(port, '/cam', { method: 'HEAD' })).end()
  t.equal(head.headers['content-type'], 'multipart/x-mixed-replace;boundary=P')
  t.equal(head.body.length, 0)
  t.equal(handled, 2, 'the handler ran before each')
  t.same(Object.keys(app.serverPush.stats()), ['/cam'], 'GET and HEAD are one route')
})

t.test('the handler runs first: an answer or an error refuses the stream, and the source is never called', async (t) => {
  let calls = 0
  const source = (): string[] => { calls++; return ['x'] }
  const { port } = await listening(t, {}, (app) => {
    app.get('/sync', { serverPush: { source } }, (_request, reply) => { reply.code(403).send({ denied: true }) })
    app.get('/async', { serverPush: { source } }, async (_request, reply) => reply.code(401).send())
    app.get('/value', { serverPush: { source } }, async () => ({ not: 'a stream' }))
    app.get('/throws', { serverPush: { source } }, async () => { throw new Error('nope') })
  })
  t.equal((await fetch(`http://127.0.0.1:${port}/sync`)).status, 403)
  t.equal((await fetch(`http://127.0.0.1:${port}/async`)).status, 401)
  const value = await fetch(`http://127.0.0.1:${port}/value`)
  t.same(await value.json(), { not: 'a stream' }, 'a returned value is the answer, as in any Fastify handler')
  t.equal((await fetch(`http://127.0.0.1:${port}/throws`)).status, 500)
  t.equal(calls, 0)
})

t.test('route schema, route hooks and constraints work as on any route', async (t) => {
  const { app, port } = await listening(t, {}, (app) => {
    app.get('/cam', {
      schema: { querystring: { type: 'object', properties: { token: { type: 'string', const: 'ok' } }, required: ['token'] } },
      onRequest: async (_request, reply) => { reply.header('Access-Control-Allow-Origin', '*') },
      serverPush: { source: text('validated'), contentType: 'text/plain' }
    }, async () => {})
    app.get('/host', { constraints: { host: 'a.test' }, serverPush: { source: text('for a'), contentType: 'text/plain' } }, async () => {})
    app.get('/host', { constraints: { host: 'b.test' }, serverPush: { source: text('for b'), contentType: 'text/plain' } }, async () => {})
  })
  const refused = await fetch(`http://127.0.0.1:${port}/cam?token=bad`)
  t.equal(refused.status, 400, 'the querystring schema refuses')
  const res = await (await RawClient.get(port, '/cam?token=ok')).end()
  t.equal(res.headers['access-control-allow-origin'], '*', 'the route\'s own onRequest hook set a header on the stream')
  t.equal(res.multipart.parts[0]?.body.toString(), 'validated')
  for (const host of ['a', 'b']) {
    const client = await RawClient.open(port, `GET /host HTTP/1.1\r\nHost: ${host}.test\r\n\r\n`)
    t.equal((await client.end()).multipart.parts[0]?.body.toString(), `for ${host}`, `host ${host}: its own route`)
  }
  t.same(Object.keys(app.serverPush.stats()).sort(), ['/cam', '/host', '/host {"host":"b.test"}'], 'a second route on one URL is told apart by its constraints')
})

t.test('register prefixes: routes and the routes option are served, and counted, at the URL really served', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  let scope: FastifyInstance | undefined
  await app.register(async (child) => {
    scope = child
    await child.register(serverPush, { prefix: '/push', routes: [{ path: '/option', source: text('a'), contentType: 'text/plain' }] })
    child.get('/route', { serverPush: { source: text('b'), contentType: 'text/plain' } }, async () => {})
  }, { prefix: '/a' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  t.equal((await (await RawClient.get(port, '/a/push/option')).end()).multipart.parts[0]?.body.toString(), 'a')
  t.equal((await (await RawClient.get(port, '/a/route')).end()).multipart.parts[0]?.body.toString(), 'b')
  t.same(Object.keys(scope?.serverPush.stats() ?? {}).sort(), ['/a/push/option', '/a/route'], 'the plugin\'s scope is the context it was registered in')
})

t.test('the serverPushSnapshot route option answers a live source\'s latest frame', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port } = await listening(t, { headers: { 'X-Plugin': '1' } }, (app) => {
    app.get('/cam.jpg', { serverPushSnapshot: { source: live, snapshotTimeoutMs: 0, contentType: 'image/png' } }, async () => {})
  })
  t.equal((await fetch(`http://127.0.0.1:${port}/cam.jpg`)).status, 503, 'no frame yet, and no wait')
  live.publish(Buffer.from('png'))
  const res = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
  t.equal(res.headers.get('content-type'), 'image/png')
  t.equal(res.headers.get('x-plugin'), '1')
  t.equal(await res.text(), 'png')
})

t.test('a route takes the settings of the nearest registration: a child context\'s own, else the latest', async (t) => {
  const option = { source: text('x'), contentType: 'text/plain' }
  const { app, port } = await listening(t, { boundary: 'first' }, async (app) => {
    app.get('/first', { serverPush: option }, async () => {})
    await app.register(serverPush, { boundary: 'second' })
    app.get('/second', { serverPush: option }, async () => {})
    await app.register(async (child) => {
      await child.register(serverPush, { boundary: 'child' })
      child.get('/child', { serverPush: option }, async () => {})
    })
  })
  for (const [path, boundary] of [['/first', 'first'], ['/second', 'second'], ['/child', 'child']]) {
    t.equal((await (await RawClient.get(port, path as string)).end()).boundary, boundary, `${path}: one option object, ${boundary}'s settings`)
  }
  t.same(Object.keys(app.serverPush.stats()).sort(), ['/child', '/first', '/second'], 'each counted once')
})

t.test('one option object in two apps: each app serves its own route', async (t) => {
  const option = { source: text('shared'), contentType: 'text/plain' }
  for (const name of ['one', 'two']) {
    const { app, port } = await listening(t, {}, (app) => { app.get('/cam', { serverPush: option }, async () => {}) })
    t.equal((await (await RawClient.get(port, '/cam')).end()).multipart.parts[0]?.body.toString(), 'shared', name)
    t.same(Object.keys(app.serverPush.stats()), ['/cam'])
  }
})

t.test('a route on a prefix\'s root: its GET and Fastify\'s HEAD twin (at the prefix plus /) are one route', async (t) => {
  let scope: FastifyInstance | undefined
  const { port } = await listening(t, {}, async (app) => {
    await app.register(async (child) => {
      scope = child
      child.get('/', { serverPush: { source: text('root'), contentType: 'text/plain' } }, async () => {})
    }, { prefix: '/cam' })
  })
  t.equal((await (await RawClient.get(port, '/cam')).end()).multipart.parts[0]?.body.toString(), 'root')
  t.equal((await (await RawClient.get(port, '/cam/', { method: 'HEAD' })).end()).statusLine, 'HTTP/1.1 200 OK')
  t.same(Object.keys(scope?.serverPush.stats() ?? {}), ['/cam'])
})

t.test('a handler that answers is never followed by a stream, even while an async onSend hook runs', async (t) => {
  let calls = 0
  const source = (): string[] => { calls++; return ['secret'] }
  const { port } = await listening(t, {}, (app) => {
    app.addHook('onSend', async (_request, _reply, payload) => {
      await new Promise((resolve) => setImmediate(resolve))
      return payload
    })
    app.get('/async', { serverPush: { source } }, async (_request, reply) => { reply.code(403).send('denied') })
    app.get('/sync', { serverPush: { source } }, (_request, reply) => { reply.code(403).send('denied') })
    app.get('/later', { serverPush: { source } }, async (_request, reply) => {
      setImmediate(() => reply.code(401).send('later'))
      return reply
    })
    app.get('/open', { serverPush: { source, contentType: 'text/plain' } }, async () => {})
  })
  for (const [path, status, body] of [['/async', 403, 'denied'], ['/sync', 403, 'denied'], ['/later', 401, 'later']]) {
    const client = await RawClient.get(port, path as string)
    await client.until((data) => data.includes(body as string))
    const text = client.data.toString('latin1')
    t.match(text, new RegExp(`^HTTP/1.1 ${status as number} `), `${path}: answered ${status as number}`)
    t.notMatch(text, /multipart|secret/, `${path}: and no stream`)
    client.destroy()
  }
  t.equal(calls, 0)
  t.equal((await (await RawClient.get(port, '/open')).end()).multipart.parts[0]?.body.toString(), 'secret', 'the onSend hook is no obstacle to a stream')
})

t.test('a bad route option fails where the route is added, naming it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(serverPush)
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const noop = async (): Promise<void> => {}
  t.throws(() => app.get('/a', { serverPush: { source: 'frames/' as unknown as () => string } }, noop), { code, message: /GET \/a: source must be/ })
  t.throws(() => app.get('/b', { serverPush: { source: text('x'), intervalMs: -1 } }, noop), { code, message: /GET \/b: intervalMs must be/ })
  t.throws(() => app.get('/c', { serverPush: { source: text('x'), path: '/c' } as never }, noop), { code, message: /GET \/c: unknown option "path"/ })
  t.throws(() => app.get('/d', { serverPush: null as never }, noop), { code, message: /GET \/d: must be an object with a source/ })
  const live = createLiveSource()
  t.throws(() => app.get('/e', { serverPush: { source: live }, serverPushSnapshot: { source: live } }, noop), { code, message: /cannot both be set/ })
  t.throws(() => app.get('/f', { serverPushSnapshot: { source: text('x') as never } }, noop), { code, message: /GET \/f: snapshot needs a live source/ })
  t.throws(() => app.get('/g', { serverPushSnapshot: 'live' as never }, noop), { code, message: /GET \/g: must be an object with a live source/ })
  t.throws(() => app.get('/h', { serverPushSnapshot: { source: live, snapshotTimeoutMs: -1 } }, noop), { code, message: /GET \/h: snapshotTimeoutMs must be/ })
  t.throws(() => app.get('/i', { serverPushSnapshot: { source: live, timeoutMs: 5 } as never }, noop), { code, message: /GET \/i: unknown option "timeoutMs"/ })
  t.throws(() => app.post('/j', { serverPush: { source: text('x') } }, noop), { code, message: /POST \/j: a push or snapshot route answers GET and HEAD only/ })
})

t.test('a route\'s missing files fail ready(), before any viewer', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(serverPush)
  app.get('/files', { serverPush: { source: fromFiles(['/nonexistent/a.jpg']) } }, async () => {})
  await t.rejects(async () => { await app.ready() }, { code: 'FST_SERVER_PUSH_INVALID_SOURCE', message: /\/files: fromFiles/ })
})
