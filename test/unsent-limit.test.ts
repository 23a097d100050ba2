// What the kernel holds unsent of a connection that carries a stream: TCP_NOTSENT_LOWAT set on the TCP socket
// itself (HTTP/1.1, h2c) or the one under TLS (h2), and left alone on connections that carry no stream; and, where
// the optional sockopt is missing, one warning per process unless the system's sysctl bounds it already. What the
// limit does for a picture on a slow link is test/slow-links.test.ts's.
import { once } from 'node:events'
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { Agent as HttpAgent, get as httpGet, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, get as httpsGet } from 'node:https'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { getsockopt } from 'sockopt'
import t from 'tap'
import serverPush, { createLiveSource } from '../lib/index.js'
import { UNSENT_LIMIT_BYTES } from '../lib/core/unsent-limit.js'
import { eventually, tempDir } from './helpers/app.js'
import { ROOT, run } from './helpers/child.js'
import { certificate, connect, request, serve, type Serving } from './helpers/protocols.js'

const IPPROTO_TCP = 6
const TCP_NOTSENT_LOWAT = 25

/** The connection's TCP_NOTSENT_LOWAT; 0 until set (the system's sysctl applies then). */
function unsentLimit (socket: Socket): number {
  return getsockopt(socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT)
}

for (const serving of ['h2c', 'h2'] as const satisfies readonly Serving[]) {
  t.test(`${serving}: the TCP connection of a session that carries a stream gets the limit, once; one without stays as it was`, async (t) => {
    const live = createLiveSource({ timestamps: false })
    const sockets: Socket[] = []
    const { origin } = await serve(t, serving, { boundary: 'B', routes: [{ path: '/live', source: live }, { path: '/plain', source: () => ['x'] }] },
      (app) => { app.server.on('connection', (socket: Socket) => sockets.push(socket)) })
    const plain = connect(t, origin)
    await eventually(() => sockets.length === 1, 'the first connection seen')
    t.equal(unsentLimit(sockets[0]!), 0, 'a session with no stream yet: not set')
    const session = connect(t, origin)
    const viewers = [await request(session, '/live'), await request(session, '/live')]
    live.publish('frame')
    await eventually(() => viewers.every((viewer) => viewer.parts().parts.length === 1), 'both streams got the frame')
    t.equal(sockets.length, 2)
    t.equal(unsentLimit(sockets[1]!), UNSENT_LIMIT_BYTES, 'the session carrying streams')
    t.equal(unsentLimit(sockets[0]!), 0, 'the other session still not')
    plain.close()
  })
}

for (const serving of ['http', 'https'] as const) {
  t.test(`HTTP/1.1 over ${serving}: the socket of a stream gets the limit; one answered plainly does not`, async (t) => {
    const sockets: Socket[] = []
    const setup = (app: FastifyInstance): void => {
      app.server.on('connection', (socket: Socket) => sockets.push(socket))
      app.get('/plain', async () => 'plain')
    }
    const routes = [{ path: '/pull', source: () => ['x'], intervalMs: 60_000 }]
    let origin: string
    if (serving === 'https') {
      origin = (await serve(t, 'https', { routes }, setup)).origin
    } else {
      const app = Fastify()
      t.teardown(() => app.close())
      setup(app)
      await app.register(serverPush, { routes })
      origin = await app.listen({ port: 0, host: '127.0.0.1' })
    }
    // One kept-alive connection for each, so that the plain answer's is still open when the stream's is looked at.
    const agent = (): HttpAgent => {
      const made = serving === 'https' ? new HttpsAgent({ ca: certificate().cert, keepAlive: true }) : new HttpAgent({ keepAlive: true })
      t.teardown(() => made.destroy())
      return made
    }
    const getter = serving === 'https' ? httpsGet : httpGet
    const answered = (path: string): Promise<IncomingMessage> => new Promise((resolve, reject) => getter(`${origin}${path}`, { agent: agent() }, resolve).on('error', reject))
    const plain = await answered('/plain')
    plain.resume()
    await once(plain, 'end')
    const stream = await answered('/pull')
    await once(stream, 'data')
    t.equal(sockets.length, 2)
    t.equal(unsentLimit(sockets[0]!), 0, 'the connection of the plain answer: not set')
    t.equal(unsentLimit(sockets[1]!), UNSENT_LIMIT_BYTES, 'the stream\'s')
    stream.destroy()
  })
}

/**
 * The built package as installed without its optional dependency: dist/ and package.json in a directory of its
 * own, beside every package of node_modules but sockopt.
 */
function installedWithoutSockopt (): string {
  const dir = tempDir('no-sockopt-')
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true })
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  mkdirSync(join(dir, 'node_modules'))
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== 'sockopt' && name !== '.bin') symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name))
  }
  // Two streams, then the warnings the logger got, as JSON.
  writeFileSync(join(dir, 'serve.mjs'), `
    import Fastify from 'fastify'
    import { get } from 'node:http'
    import serverPush from 'fastify-server-push'
    const warnings = []
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line) => warnings.push(JSON.parse(line)) } } })
    await app.register(serverPush)
    app.get('/pull', { serverPush: { source: () => ['x'], intervalMs: 60_000 } }, async () => {})
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => get(origin + '/pull', (res) => res.once('data', () => { res.destroy(); resolve() })))
    }
    await app.close()
    console.log(JSON.stringify(warnings.map(({ msg, err }) => ({ msg, err: err?.message }))))
  `)
  return dir
}

t.test('without sockopt: streams work, and one warning says pictures may lag and how to fix it; none where the sysctl bounds every socket', async (t) => {
  const dir = installedWithoutSockopt()
  // The package's own name resolves to the directory, as it would in an app that depends on it.
  symlinkSync(dir, join(dir, 'node_modules', 'fastify-server-push'))
  const plain = await run(process.execPath, [join(dir, 'serve.mjs')])
  t.equal(plain.code, 0, plain.stderr)
  const warnings = JSON.parse(plain.stdout) as Array<{ msg: string, err: string }>
  t.equal(warnings.length, 1, 'one warning for two streams')
  t.match(warnings[0]?.msg, /TCP_NOTSENT_LOWAT.*lag.*sockopt.*net\.ipv4\.tcp_notsent_lowat/)
  t.match(warnings[0]?.err, /sockopt/, 'with why it could not be set')
  // A network namespace of its own, where the sysctl is the process's to set.
  const bounded = await run('unshare', ['-rn', 'sh', '-c', `ip link set lo up && echo 16384 > /proc/sys/net/ipv4/tcp_notsent_lowat && exec "${process.execPath}" "${join(dir, 'serve.mjs')}"`])
  t.equal(bounded.code, 0, bounded.stderr)
  t.same(JSON.parse(bounded.stdout), [], 'no warning: the system bounds every socket')
})
