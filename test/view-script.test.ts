// The <push-view> script as the package serves it: the plugin's `viewScript` path (default /push-view.js, below
// `prefix`, or none), its type, its ETag and the 304 that answers a copy the browser already has, a second
// registration of the plugin, the option's checks; and the node handler that serves the same for Express and
// node:http. What the script does in a browser is test/browser-view.test.ts.
import { once } from 'node:events'
import http from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import serverPush, { PUSH_VIEW_SCRIPT, type ServerPushOptions } from '../lib/index.js'
import { createViewScriptHandler, PUSH_VIEW_SCRIPT as NODE_SCRIPT } from '../lib/node.js'

const code = 'FST_SERVER_PUSH_INVALID_OPTION'

async function app (t: Test, options: ServerPushOptions = {}, setup?: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  await fastify.register(serverPush, options)
  await setup?.(fastify)
  await fastify.ready()
  return fastify
}

t.test('served at /push-view.js by default: the script, as JavaScript, with an ETag', async (t) => {
  const fastify = await app(t)
  const response = await fastify.inject('/push-view.js')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'text/javascript; charset=utf-8')
  t.equal(response.headers['cache-control'], 'no-cache', 'checked with the server on each page load')
  t.equal(response.headers['x-content-type-options'], 'nosniff')
  t.equal(response.body, PUSH_VIEW_SCRIPT)
  t.match(PUSH_VIEW_SCRIPT, /customElements\.define\('push-view', PushView\)/)
  t.equal(NODE_SCRIPT, PUSH_VIEW_SCRIPT, 'both entries export the same script')
  const etag = response.headers.etag as string
  t.match(etag, /^"[\w-]{22}"$/)
  // The copy the browser has, named alone, weakly, in a list, or as any.
  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const again = await fastify.inject({ url: '/push-view.js', headers: { 'if-none-match': ifNoneMatch } })
    t.equal(again.statusCode, 304, `If-None-Match: ${ifNoneMatch}`)
    t.equal(again.body, '')
    t.equal(again.headers.etag, etag)
  }
  const other = await fastify.inject({ url: '/push-view.js', headers: { 'if-none-match': '"other"' } })
  t.equal(other.statusCode, 200, 'another version: the script')
  t.equal(other.body, PUSH_VIEW_SCRIPT)
  const head = await fastify.inject({ method: 'HEAD', url: '/push-view.js' })
  t.equal(head.statusCode, 200)
  t.equal(head.body, '')
})

t.test('another path, below the prefix; false serves none', async (t) => {
  const moved = await app(t, { prefix: '/p', viewScript: '/js/view.js' })
  t.equal((await moved.inject('/p/js/view.js')).body, PUSH_VIEW_SCRIPT)
  t.equal((await moved.inject('/push-view.js')).statusCode, 404)
  const none = await app(t, { viewScript: false })
  t.equal((await none.inject('/push-view.js')).statusCode, 404)
})

t.test('a second registration of the plugin serves the script once at a path, and again at another prefix', async (t) => {
  const fastify = await app(t, {}, async (fastify) => {
    await fastify.register(serverPush, {})
    await fastify.register(async (child) => { await child.register(serverPush, {}) }, { prefix: '/child' })
  })
  t.equal((await fastify.inject('/push-view.js')).body, PUSH_VIEW_SCRIPT)
  t.equal((await fastify.inject('/child/push-view.js')).body, PUSH_VIEW_SCRIPT)
})

t.test('a viewScript that is no path, or a path taken, fails register with a coded error', async (t) => {
  for (const viewScript of ['view.js', '', 3, true, null]) {
    const fastify = Fastify()
    t.teardown(() => fastify.close())
    await t.rejects(async () => {
      await fastify.register(serverPush, { viewScript } as unknown as ServerPushOptions)
      await fastify.ready()
    }, { code, message: `options: viewScript must be a path starting with "/", or false, got ${JSON.stringify(viewScript)}` })
  }
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  await t.rejects(async () => {
    await fastify.register(serverPush, { statusPath: '/s', viewScript: '/s' })
    await fastify.ready()
  }, { code, message: /path \/s is already taken by options\.statusPath/ })
})

t.test('createViewScriptHandler(): the same script and 304 on node:http', async (t) => {
  const handler = createViewScriptHandler()
  const server = http.createServer(handler).listen(0, '127.0.0.1')
  t.teardown(() => { server.close() })
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/push-view.js`
  const response = await fetch(url)
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8')
  t.equal(await response.text(), PUSH_VIEW_SCRIPT)
  const again = await fetch(url, { headers: { 'if-none-match': response.headers.get('etag') as string } })
  t.equal(again.status, 304)
  t.equal(again.headers.get('content-length'), null, 'a 304 says nothing of a length: the copy the browser has is not empty')
  t.equal(await again.text(), '')
})

t.test('the plugin answers a request for the script once: nothing sent twice, nothing logged', async (t) => {
  const lines: string[] = []
  const fastify = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => fastify.close())
  await fastify.register(serverPush)
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const response = await fetch(`http://127.0.0.1:${(fastify.server.address() as { port: number }).port}/push-view.js`)
  t.equal(await response.text(), PUSH_VIEW_SCRIPT)
  // A handler that returned the reply had Fastify send it again: FST_ERR_REP_ALREADY_SENT, logged at warn.
  t.same(lines, [], 'no warning')
})
