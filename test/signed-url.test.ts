// Signed URLs: signUrl() makes URLs by the README's scheme (rebuilt here with node:crypto), and a route with
// signingKeys starts a stream or snapshot only for one, under Fastify (a route, the plugin's default, a route
// turning it off), node:http, Express and HTTP/2; rotation; and a hostile client's tries, each refused 403 with
// FST_SERVER_PUSH_BAD_SIGNATURE before the route does anything else, the key in no log.
import { createHmac, randomBytes } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { once } from 'node:events'
import http, { type Server } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import serverPush, { createLiveSource, FST_SERVER_PUSH_BAD_SIGNATURE, signUrl, type LiveSource } from '../lib/index.js'
import { createPushHandler, createSnapshotHandler, signUrl as nodeSignUrl } from '../lib/node.js'
import type { ViewerRefuseEvent } from '../lib/core/events.js'
import { eventually } from './helpers/app.js'
import { connect, request, serve } from './helpers/protocols.js'
import { RawClient, type ParsedResponse } from './helpers/wire-client.js'

const KEY = randomBytes(32)
/** The key before KEY: a string, as one read from the environment. */
const OLD = randomBytes(24).toString('base64url')
const STRANGER = randomBytes(32)
const CODE = 'FST_SERVER_PUSH_BAD_SIGNATURE'
const INVALID = 'FST_SERVER_PUSH_INVALID_OPTION'
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xd9])

/** How the README says a URL is signed: `GET\n` and the URL up to `&signature=`, HMAC-SHA256, base64url. */
function signed (key: Buffer | string, url: string): string {
  return `${url}&signature=${createHmac('sha256', key).update(`GET\n${url}`).digest('base64url')}`
}

const now = (): number => Math.floor(Date.now() / 1000)

/** Every form of a key a log could hold it in. */
function keyForms (key: Buffer | string): string[] {
  const bytes = Buffer.from(key)
  return [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('latin1')].filter((form) => form.length > 0)
}

/** The refusals published on the viewer:refuse channel while `t` runs. */
function refusals (t: Test): ViewerRefuseEvent[] {
  const seen: ViewerRefuseEvent[] = []
  const listener = (message: unknown): void => { seen.push(message as ViewerRefuseEvent) }
  diagnostics.subscribe('fastify-server-push:viewer:refuse', listener)
  t.teardown(() => { diagnostics.unsubscribe('fastify-server-push:viewer:refuse', listener) })
  return seen
}

/** A GET (or HEAD) of `path` over HTTP/1.1, read until its answer is in: the head and a part, or a whole refusal. */
async function get (port: number, path: string, method = 'GET'): Promise<{ client: RawClient, response: ParsedResponse }> {
  const client = await RawClient.get(port, path, { method })
  await client.until(() => {
    const response = client.response()
    if (response === undefined) return false
    if (method === 'HEAD') return true
    if (response.boundary !== '') return response.multipart.parts.length >= 1
    return response.body.length >= Number(response.headers['content-length'])
  })
  return { client, response: client.response() as ParsedResponse }
}

/** Asserts a 403 refusal carrying the code and `message`, and no stream. */
async function refused (t: Test, port: number, path: string, message: RegExp, what: string): Promise<void> {
  const { client, response } = await get(port, path)
  client.destroy()
  t.equal(response.statusLine, 'HTTP/1.1 403 Forbidden', `${what}: 403`)
  t.notMatch(response.headers['content-type'], /multipart/, `${what}: no stream`)
  const body = JSON.parse(response.body.toString()) as { statusCode: number, code: string, message: string }
  t.match(body, { statusCode: 403, code: CODE, message }, `${what}: ${body.message}`)
}

/** Asserts a stream of the live source's frame at `path`. */
async function streams (t: Test, port: number, path: string, what: string): Promise<void> {
  const { client, response } = await get(port, path)
  t.equal(response.statusLine, 'HTTP/1.1 200 OK', `${what}: 200`)
  t.ok(response.multipart.parts[0]?.body.equals(JPEG), `${what}: a part, the source's frame`)
  client.destroy()
}

t.test('signUrl(): the scheme the README gives, from both entries, and every wrong input a coded error', async (t) => {
  t.equal(nodeSignUrl, signUrl, 'fastify-server-push/node exports the same signUrl')
  const before = now()
  const url = signUrl('/cam.mjpg?fps=5', { key: KEY, expiresIn: 60 })
  const after = now()
  const match = /^\/cam\.mjpg\?fps=5&expires=(\d+)&signature=[\w-]{43}$/.exec(url)
  t.ok(match, url)
  const expires = Number(match?.[1])
  t.ok(expires >= before + 60 && expires <= after + 61, `expires ${expires - before} s from now`)
  t.equal(url, signed(KEY, `/cam.mjpg?fps=5&expires=${expires}`), 'HMAC-SHA256 of GET, the path, its query and the expiry')
  t.match(signUrl('/cam.mjpg', { key: OLD, expiresIn: 0.5, method: 'GET' }), /^\/cam\.mjpg\?expires=\d+&signature=[\w-]{43}$/, 'no query: ?expires=')

  const wrong: Array<[unknown, unknown, RegExp]> = [
    [42, { key: KEY, expiresIn: 60 }, /path must start with one "\/"/],
    ['cam.mjpg', { key: KEY, expiresIn: 60 }, /path must start with one "\/"/],
    ['/cam.mjpg#top', { key: KEY, expiresIn: 60 }, /no #fragment/],
    ['/my cam.mjpg', { key: KEY, expiresIn: 60 }, /percent-encode/],
    ['/cam.mjpg?expires=9', { key: KEY, expiresIn: 60 }, /already has an expires or signature/],
    ['/cam.mjpg?a=1&signature=x', { key: KEY, expiresIn: 60 }, /already has an expires or signature/],
    ['/cam.mjpg', null, /options must be an object/],
    ['/cam.mjpg', { key: KEY, expiresIn: 60, expires: 1 }, /unknown option "expires"/],
    ['/cam.mjpg', { key: 'too short', expiresIn: 60 }, /key must have at least 32 bytes .*got 9$/],
    ['/cam.mjpg', { key: randomBytes(31), expiresIn: 60 }, /got 31$/],
    ['/cam.mjpg', { key: 42, expiresIn: 60 }, /key must be a string or bytes \(a Buffer\), got number/],
    ['/cam.mjpg', { key: null, expiresIn: 60 }, /got null/],
    ['/cam.mjpg', { key: KEY, expiresIn: 0 }, /expiresIn must be a number of seconds > 0, got 0/],
    ['/cam.mjpg', { key: KEY, expiresIn: -5 }, /got -5/],
    ['/cam.mjpg', { key: KEY, expiresIn: Number.NaN }, /got NaN/],
    ['/cam.mjpg', { key: KEY, expiresIn: Infinity }, /got Infinity/],
    ['/cam.mjpg', { key: KEY, expiresIn: '60' }, /got 60/],
    ['/cam.mjpg', { key: KEY, expiresIn: 60, method: 'POST' }, /method must be "GET"/],
    // Past 12 digits of seconds an expiry would never be taken: refused where it is made.
    ['/cam.mjpg', { key: KEY, expiresIn: 1e12 }, /expiresIn must end before the year 33658, got 1000000000000/],
    ['/cam.mjpg', { key: KEY, expiresIn: 1e22 }, /before the year 33658/],
    // What a browser would resolve away or read as another host: never sent as signed.
    ['//evil.example/cam.mjpg', { key: KEY, expiresIn: 60 }, /one "\/"/],
    ['/a/../cam.mjpg', { key: KEY, expiresIn: 60 }, /no \. or \.\. segment/],
    ['/./cam.mjpg', { key: KEY, expiresIn: 60 }, /segment/],
    ['/%2E%2e/cam.mjpg', { key: KEY, expiresIn: 60 }, /segment/],
    ['/cams/..?x=1', { key: KEY, expiresIn: 60 }, /segment/]
  ]
  for (const [path, options, message] of wrong) {
    t.throws(() => signUrl(path as string, options as Parameters<typeof signUrl>[1]), { code: INVALID, message }, String(message))
  }
  t.match(signUrl('/.well-known/cam..mjpg?next=/../x', { key: KEY, expiresIn: 1e11 }), /^\/\.well-known\/cam\.\.mjpg\?next=\/\.\.\/x&expires=\d{12}&/,
    'dots inside a name, and in a query, are sent as written; an expiry of 12 digits is taken')
})

t.test('the URL verified is the one the client sent: Express mounts and Fastify\'s rewriteUrl change req.url, not originalUrl', async (t) => {
  const live = createLiveSource()
  live.publish(JPEG)
  // One handler's route under two mounts: a URL signed for one must not open the other.
  const app = express()
  for (const mount of ['/public', '/private']) {
    const router = express.Router()
    const handler = createPushHandler({ source: live, signingKeys: KEY, name: mount })
    t.teardown(() => handler.close())
    router.get('/cam.mjpg', handler)
    app.use(mount, router)
  }
  app.use((error: { statusCode: number, code: string, message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(error.statusCode).json({ statusCode: error.statusCode, code: error.code, message: error.message })
  })
  const server = http.createServer(app).listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const port = (server.address() as { port: number }).port
  await streams(t, port, signUrl('/public/cam.mjpg', { key: KEY, expiresIn: 60 }), 'signed for the path the client requests, mount included')
  const publicUrl = signUrl('/public/cam.mjpg', { key: KEY, expiresIn: 60 })
  await refused(t, port, publicUrl.replace('/public/', '/private/'), /not valid/, 'the public mount\'s URL on the private mount')
  await refused(t, port, `/private${signUrl('/cam.mjpg', { key: KEY, expiresIn: 60 })}`, /not valid/, 'signed without the mount: opens no mount')

  const rewriting = Fastify({ rewriteUrl: (req) => String(req.url).replace(/^\/api\//, '/') })
  t.teardown(() => rewriting.close())
  await rewriting.register(serverPush, { signingKeys: KEY, routes: [{ path: '/cam.mjpg', source: live }] })
  await rewriting.listen({ port: 0, host: '127.0.0.1' })
  const rewritten = (rewriting.server.address() as { port: number }).port
  await streams(t, rewritten, signUrl('/api/cam.mjpg', { key: KEY, expiresIn: 60 }), 'signed as the client asked, before the rewrite')
  await refused(t, rewritten, `/api${signUrl('/cam.mjpg', { key: KEY, expiresIn: 60 })}`, /not valid/, 'signed as rewritten: not what the client sent')
})

t.test('signingKeys is checked when the route is made: type, length, a non-empty list; the key is never quoted', async (t) => {
  const source = createLiveSource()
  const short = 'a secret of 31 bytes, too short'
  const wrong: Array<[unknown, RegExp]> = [
    [short, /signingKeys must have at least 32 bytes .*got 31$/],
    [[], /signingKeys must hold at least one key \(or be false for none\)/],
    [[KEY, 5], /signingKeys\[1\] must be a string or bytes/],
    [[KEY, short], /signingKeys\[1\] must have at least 32 bytes/],
    [true, /signingKeys must be a string or bytes \(a Buffer\), got boolean/]
  ]
  for (const [signingKeys, message] of wrong) {
    t.throws(() => createPushHandler({ source, signingKeys: signingKeys as string }), { code: INVALID, message: /^Invalid server push option: createPushHandler\(\)/ })
    t.throws(() => createSnapshotHandler({ source, signingKeys: signingKeys as string }), { code: INVALID, message })
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(serverPush, { signingKeys: signingKeys as string }) }, { code: INVALID, message })
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(serverPush)
  let error: Error | undefined
  try {
    app.get('/cam.mjpg', { serverPush: { source, signingKeys: short } }, async () => {})
  } catch (caught) {
    error = caught as Error
  }
  t.match(error, { code: INVALID, message: /GET \/cam\.mjpg: signingKeys must have at least 32 bytes/ }, 'a route\'s own, named')
  t.notOk(error?.message.includes(short), 'the key is not in the message')
})

/** A Fastify app with the plugin's default keys [KEY, OLD], its log kept; closed at the end of `t`. */
async function fastifyApp (t: Test, live: LiveSource): Promise<{ port: number, log: string[] }> {
  const log: string[] = []
  const app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => { log.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(serverPush, {
    signingKeys: [KEY, OLD],
    routes: [{ path: '/cam.mjpg', source: live, snapshot: '/cam.jpg', maxClients: 1 }]
  })
  app.get('/open.mjpg', { serverPush: { source: live, signingKeys: false } }, async () => {})
  app.get('/own.mjpg', { serverPush: { source: live, signingKeys: STRANGER } }, async () => {})
  app.get('/own.jpg', { serverPushSnapshot: { source: live, signingKeys: false } }, async () => {})
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as { port: number }).port, log }
}

t.test('Fastify: the plugin\'s keys guard every route, a route\'s own replace them, false turns them off', async (t) => {
  const live = createLiveSource()
  live.publish(JPEG)
  const { port, log } = await fastifyApp(t, live)
  const events = refusals(t)
  await refused(t, port, '/cam.mjpg', /^Forbidden: this URL must be signed \(expires and signature, last in its query\)$/, 'unsigned')
  t.same(events.map(({ route, reason, status }) => ({ route, reason, status })), [{ route: '/cam.mjpg', reason: 'signature', status: 403 }], 'the refusal published')
  t.equal((events[0]?.request as http.IncomingMessage).url, '/cam.mjpg', 'with its request')

  const url = signUrl('/cam.mjpg?fps=50', { key: KEY, expiresIn: 300 })
  const viewer = await get(port, url)
  t.equal(viewer.response.statusLine, 'HTTP/1.1 200 OK', 'signed by the new key: a stream')
  t.ok(viewer.response.multipart.parts[0]?.body.equals(JPEG))
  // The route's one viewer is there: an unsigned request learns nothing of it, a signed one is told it is full.
  await refused(t, port, '/cam.mjpg', /must be signed/, 'unsigned while the route is full')
  const full = await get(port, signUrl('/cam.mjpg', { key: KEY, expiresIn: 300 }))
  t.equal(full.response.statusLine, 'HTTP/1.1 503 Service Unavailable', 'signed while the route is full: 503')
  full.client.destroy()
  viewer.client.destroy()

  const head = await get(port, signUrl('/cam.mjpg', { key: OLD, expiresIn: 300 }), 'HEAD')
  t.equal(head.response.statusLine, 'HTTP/1.1 200 OK', 'HEAD, by the old key still listed, checked as GET')
  head.client.destroy()
  t.match(head.response.headers['content-type'], /^multipart\/x-mixed-replace/)

  const snapshot = await fetch(`http://127.0.0.1:${port}${signUrl('/cam.jpg', { key: OLD, expiresIn: 300 })}`)
  t.equal(snapshot.status, 200, 'the snapshot route takes the plugin\'s keys')
  t.same(Buffer.from(await snapshot.arrayBuffer()), JPEG)
  const unsignedSnapshot = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
  t.equal(unsignedSnapshot.status, 403)
  t.match(await unsignedSnapshot.json(), { statusCode: 403, code: CODE, error: 'Forbidden', message: /must be signed/ }, 'a snapshot\'s refusal carries the code')
  const expiredSnapshot = await fetch(`http://127.0.0.1:${port}${signed(KEY, `/cam.jpg?expires=${now() - 1}`)}`)
  t.match(await expiredSnapshot.json(), { code: CODE, message: 'Forbidden: the signed URL has expired' })
  t.equal((await fetch(`http://127.0.0.1:${port}/own.jpg`)).status, 200, 'a snapshot route with signingKeys: false')

  await streams(t, port, '/open.mjpg', 'signingKeys: false on a route: unsigned')
  await refused(t, port, signUrl('/own.mjpg', { key: KEY, expiresIn: 300 }), /is not valid/, 'a route\'s own key replaces the plugin\'s')
  await streams(t, port, signUrl('/own.mjpg', { key: STRANGER, expiresIn: 300 }), 'signed by the route\'s own key')

  // (The 503 of the full route is published too, with its own reason.)
  const refusedBySignature = events.filter(({ reason }) => reason === 'signature')
  t.ok(refusedBySignature.every(({ status }) => status === 403))
  t.same(refusedBySignature.map(({ route }) => route), ['/cam.mjpg', '/cam.mjpg', '/cam.jpg', '/cam.jpg', '/own.mjpg'], 'every refusal published, named by its route')
  const logged = log.join('')
  t.match(logged, /FST_SERVER_PUSH_BAD_SIGNATURE/, 'refusals are logged')
  for (const key of [KEY, OLD, STRANGER]) {
    for (const form of keyForms(key)) t.notOk(logged.includes(form), 'no form of a key in the log')
  }
})

t.test('hostile URLs: each refused 403 with the code, never a stream', async (t) => {
  const live = createLiveSource()
  live.publish(JPEG)
  const { port } = await fastifyApp(t, live)
  const future = now() + 300
  const good = signed(KEY, `/cam.mjpg?expires=${future}`)
  const signature = good.slice(good.indexOf('&signature='))
  await streams(t, port, good, 'the scheme, built by hand')
  const other = signUrl('/other.mjpg', { key: KEY, expiresIn: 300 })
  const cases: Array<[string, string, RegExp]> = [
    ['a signature for another path', `/cam.mjpg${other.slice(other.indexOf('?'))}`, /not valid/],
    ['an expired one', signed(KEY, `/cam.mjpg?expires=${now() - 1}`), /^Forbidden: the signed URL has expired$/],
    ['a tampered expiry', good.replace(`expires=${future}`, `expires=${future + 3600}`), /not valid/],
    ['a truncated signature', good.slice(0, -1), /not valid/],
    ['an over-long signature', `${good}A`, /not valid/],
    ['a replay with a parameter appended', `${good}&fps=1`, /not valid/],
    ['a replay with a parameter inserted', good.replace('?expires=', '?fps=1&expires='), /not valid/],
    ['another key', signed(STRANGER, `/cam.mjpg?expires=${future}`), /not valid/],
    ['a signature without expires', `/cam.mjpg?a=1${signature}`, /not valid/],
    ['expires without a signature', `/cam.mjpg?expires=${future}`, /must be signed/],
    ['a signature not last', `/cam.mjpg?expires=${future}&signature=${'A'.repeat(43)}&x=1`, /not valid/],
    // Signed by the key, but not as signUrl() signs: the route still refuses them.
    ['expires twice', signed(KEY, `/cam.mjpg?expires=${future}&expires=${future}`), /not valid/],
    ['expires twice, one encoded', signed(KEY, `/cam.mjpg?expir%65s=1&expires=${future}`), /not valid/],
    ['a signature before expires', signed(KEY, `/cam.mjpg?signature=x&expires=${future}`), /not valid/],
    ['an expiry of 13 digits', signed(KEY, '/cam.mjpg?expires=9999999999999'), /not valid/],
    ['the signature in another case', good.replace(/(signature=[\w-]*?)([a-zA-Z])/, (_, before: string, c: string) => before + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())), /not valid/]
  ]
  for (const [what, path, message] of cases) await refused(t, port, path, message, what)
  // The base64url of 32 bytes leaves 2 bits of its last character unused: another character there decodes to
  // the same bytes, and is refused all the same.
  const last = good.at(-1) as string
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const twin = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)] as string
  t.same(Buffer.from(`${good.slice(-43, -1)}${twin}`, 'base64url'), Buffer.from(good.slice(-43), 'base64url'), 'the twin decodes to the same bytes')
  await refused(t, port, `${good.slice(0, -1)}${twin}`, /not valid/, 'a malleated signature')
})

/** A node:http server (or Express app) calling `handlers` by path; closed at the end of `t`. */
async function nodeServer (t: Test, handlers: Record<string, ReturnType<typeof createSnapshotHandler>>, kind: 'node' | 'express'): Promise<number> {
  let server: Server
  if (kind === 'express') {
    const app = express()
    for (const [path, handler] of Object.entries(handlers)) app.get(path, handler)
    app.use((error: { statusCode: number, code: string, message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.statusCode).json({ statusCode: error.statusCode, code: error.code, error: 'by Express', message: error.message })
    })
    server = http.createServer(app)
  } else {
    // By the path up to a query or an `&`: a target with no `?` reaches the handler too.
    server = http.createServer((req, res) => { handlers[String(req.url).split(/[?&]/)[0] as string]?.(req, res) })
  }
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    await Promise.all(Object.values(handlers).map((handler) => handler.close()))
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as { port: number }).port
}

for (const kind of ['node', 'express'] as const) {
  t.test(`${kind === 'node' ? 'node:http' : 'Express 5'}: createPushHandler() and createSnapshotHandler() with signingKeys`, async (t) => {
    const live = createLiveSource()
    live.publish(JPEG)
    const events = refusals(t)
    // Rotation done: OLD has been dropped from the list.
    const port = await nodeServer(t, {
      '/cam.mjpg': createPushHandler({ source: live, signingKeys: [KEY], name: 'cam' }),
      '/cam.jpg': createSnapshotHandler({ source: live, signingKeys: KEY, name: 'still' }),
      '/plain.jpg': createSnapshotHandler({ source: live })
    }, kind)
    await streams(t, port, signUrl('/cam.mjpg?fps=5', { key: KEY, expiresIn: 60 }), 'signed')
    await refused(t, port, '/cam.mjpg', /must be signed/, 'unsigned')
    await refused(t, port, signUrl('/cam.mjpg', { key: OLD, expiresIn: 60 }), /not valid/, 'signed by a key dropped from the list')
    // Express's router takes `/cam.mjpg&expires=…` for another path.
    if (kind === 'node') await refused(t, port, signed(KEY, `/cam.mjpg&expires=${now() + 60}`), /not valid/, 'no query at all')
    const snapshot = await fetch(`http://127.0.0.1:${port}${signUrl('/cam.jpg', { key: KEY, expiresIn: 60 })}`)
    t.equal(snapshot.status, 200, 'a signed snapshot')
    t.same(Buffer.from(await snapshot.arrayBuffer()), JPEG)
    const unsigned = await fetch(`http://127.0.0.1:${port}/cam.jpg`)
    t.equal(unsigned.status, 403)
    t.match(await unsigned.json(), { statusCode: 403, code: CODE, error: kind === 'express' ? 'by Express' : 'Forbidden', message: /must be signed/ }, 'an unsigned snapshot: 403 with the code')
    t.equal((await fetch(`http://127.0.0.1:${port}/plain.jpg`)).status, 200, 'a snapshot handler without keys')
    t.same(events.map(({ route, reason }) => `${route} ${reason}`), ['cam signature', 'cam signature', ...kind === 'node' ? ['cam signature'] : [], 'still signature'], 'refusals published with the handlers\' names')
  })
}

t.test('HTTP/2: a signed stream, an unsigned one refused', async (t) => {
  const live = createLiveSource()
  live.publish(JPEG)
  const { origin } = await serve(t, 'h2c', { signingKeys: KEY, routes: [{ path: '/cam.mjpg', source: live, boundary: 'B' }] })
  const session = connect(t, origin)
  const stream = await request(session, signUrl('/cam.mjpg', { key: KEY, expiresIn: 60 }))
  t.equal(stream.headers[':status'], 200)
  await eventually(() => stream.parts().parts.length >= 1, 'a part over HTTP/2')
  t.ok(stream.parts().parts[0]?.body.equals(JPEG), 'a part over HTTP/2')
  stream.stream.close()
  const unsigned = await request(session, '/cam.mjpg')
  t.equal(unsigned.headers[':status'], 403)
  await unsigned.ended
  t.match(JSON.parse(unsigned.body().toString()), { code: CODE })
  t.equal(new FST_SERVER_PUSH_BAD_SIGNATURE('x').statusCode, 403)
})
