// The command run in this process (main(), as the bin runs it, told to stop as a signal would): each path, each
// kind of camera, who may open what, and how it ends. test/cli.test.ts runs it as a process, as users do.
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { main, type CommandIo } from '../lib/cli/main.js'
import { optional } from '../lib/cli/optional.js'
import { deviceCommand } from '../lib/cli/cameras.js'
import { tempDir } from './helpers/app.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { certificate } from './helpers/protocols.js'
import { startRedis } from './helpers/redis.js'
import { RawClient } from './helpers/wire-client.js'

const FRAMES = new URL('../example-app/frames/', import.meta.url)
const THUMB_1 = readFileSync(new URL('thumb_1.jpg', FRAMES))
const dir = tempDir('cli-app')

/** The command as it runs: its output, its origin once it listens, and stop() (a signal) and its exit status. */
interface Running {
  readonly port: number
  readonly origin: string
  readonly stderr: () => string
  /** Stops it as SIGTERM would; resolves with its exit status. */
  stop: () => Promise<number>
}

/** Runs the command to its end (a mistake, --help); resolves with its status and output. */
async function finished (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const status = await main(args, { stdout: (text) => { stdout += text }, stderr: (text) => { stderr += text }, env, stop: new AbortController().signal })
  return { status, stdout, stderr }
}

/** Starts the command (silent logs, a free port), stopped at the end of `t` if the test did not. */
async function start (t: Test, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const stop = new AbortController()
  let stderr = ''
  let listening: (origin: string) => void = () => {}
  const origin = new Promise<string>((resolve) => { listening = resolve })
  const io: CommandIo = { stdout: () => {}, stderr: (text) => { stderr += text }, env, stop: stop.signal, listening }
  const status = main([...args, '--port', '0', '--log-level', 'silent'], io)
  const ready = await Promise.race([origin, status.then((code) => { throw new Error(`exited with ${code}: ${stderr}`) })])
  const halt = async (): Promise<number> => {
    stop.abort('SIGTERM')
    return await status
  }
  t.teardown(halt)
  return { port: Number(new URL(ready).port), origin: ready, stderr: () => stderr, stop: halt }
}

async function get (url: string, init?: RequestInit): Promise<Response> {
  return await fetch(url, { signal: AbortSignal.timeout(PATIENCE_MS), ...init })
}

t.test('--help is the manual, with the device\'s ffmpeg command; --version the package\'s', async (t) => {
  const help = await finished(['--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /^NAME\n {4}fastify-server-push - /)
  t.ok(help.stdout.includes(deviceCommand('/dev/video0').join(' ')), 'the command --device runs')
  for (const section of ['SYNOPSIS', 'SOURCES', 'OPTIONS', 'PATHS', 'CONFIG FILE', 'SIGNALS', 'EXIT STATUS', 'EXAMPLES']) t.match(help.stdout, new RegExp(`\n${section}[ \n]`))
  t.ok(help.stdout.split('\n').every((line) => line.length <= 80), 'fits 80 columns')
  const version = await finished(['--version'])
  t.same(version, { status: 0, stdout: `${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`, stderr: '' })
})

t.test('a mistake is one line on stderr and status 2; a port taken, one line and status 1', async (t) => {
  t.same(await finished(['--dir']), { status: 2, stdout: '', stderr: 'fastify-server-push: Option \'--dir <value>\' argument missing\n' })
  const empty = tempDir('cli-empty')
  t.same(await finished(['--dir', empty]), { status: 2, stdout: '', stderr: `fastify-server-push: camera "camera": no image, HTML or text files in ${empty}\n` })
  const taken = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => taken.once('listening', resolve))
  t.teardown(() => taken.close())
  const { port } = taken.address() as { port: number }
  const failed = await finished(['--dir', FRAMES.pathname, '--port', String(port), '--log-level', 'silent'])
  t.match(failed, { status: 1, stdout: '', stderr: /^fastify-server-push: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+\n$/ })
})

t.test('one folder: /stream, /snapshot, /state, ?action=, the index page; a stop ends the streams well-formed', async (t) => {
  const command = await start(t, ['--dir', FRAMES.pathname, '--interval-ms', '100', '--max-clients', '2'])
  const viewer = await RawClient.get(command.port, '/stream')
  const { headers, multipart } = await viewer.parts(2)
  t.match(headers['content-type'], /^multipart\/x-mixed-replace;boundary=/)
  t.ok(multipart.parts[0]?.body.equals(THUMB_1), 'the first file first')
  const action = await RawClient.get(command.port, '/?action=stream')
  t.ok((await action.parts(1)).multipart.parts[0]?.body.length, '?action=stream is the stream')
  const full = await get(`${command.origin}/stream`)
  t.equal(full.status, 503, 'a third viewer: --max-clients 2')
  await full.body?.cancel()
  for (const path of ['/snapshot', '/?action=snapshot']) {
    const snapshot = await get(command.origin + path)
    t.equal(snapshot.headers.get('content-type'), 'image/jpeg', path)
  }
  const state = await (await get(`${command.origin}/state`)).json()
  t.match(state, { ok: true, result: { source: { name: 'camera', kind: 'dir', online: true, desired_fps: 0 }, stream: { clients: 2 }, stats: { viewers: 2 } } })
  const page = await get(`${command.origin}/`)
  t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
  const html = await page.text()
  t.match(html, '<script src="/push-view.js"></script>')
  t.match(html, '<push-view src="/stream" alt="camera" show-age></push-view>')
  for (const href of ['/stream', '/snapshot', '/state', '/?action=stream', '/?action=snapshot']) t.match(html, `href="${href}"`)
  t.equal((await get(`${command.origin}/push-view.js`)).status, 200)
  t.equal(await command.stop(), 0, 'status 0 after a stop')
  for (const client of [viewer, action]) t.ok((await client.end()).multipart.closed, 'the stream ended with its close delimiter')
})

t.test('several cameras: their paths below their names, /state of all, Basic auth, signed URLs, metrics, ingest', async (t) => {
  const file = join(dir, 'cameras.json')
  writeFileSync(file, JSON.stringify({
    user: 'admin',
    password: 'secret',
    metrics: true,
    chunked: true,
    cameras: [
      { name: 'door', dir: FRAMES.pathname, maxFps: 5 },
      { name: 'yard', ingest: true },
      { name: 'desk', device: join(dir, 'no-such-video-device') }
    ]
  }))
  const key = 'k'.repeat(32)
  const command = await start(t, ['--config', file], { SERVER_PUSH_SIGNING_KEY: key })
  const auth = { authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` }
  for (const path of ['/', '/state', '/door/state', '/metrics', '/signed-url?path=/door/stream', '/push-view.js']) {
    const refused = await get(command.origin + path)
    t.equal(refused.status, 401, `${path} without credentials`)
    t.equal(refused.headers.get('www-authenticate'), 'Basic realm="fastify-server-push", charset="UTF-8"')
    t.match(await refused.json(), { code: 'FST_SERVER_PUSH_UNAUTHORIZED' })
  }
  t.equal((await get(`${command.origin}/state`, { headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` } })).status, 401, 'a wrong password')
  // Streams and snapshots open by their signature, without the password: an <img> of another site sends none.
  t.equal((await get(`${command.origin}/door/snapshot`, { headers: auth })).status, 403, 'an unsigned snapshot, even with the password')
  const page = await (await get(`${command.origin}/`, { headers: auth })).text()
  const src = /<push-view src="(\/door\/stream\?expires=\d+&amp;signature=[\w-]+)" refresh-src="\/signed-url\?path=%2Fdoor%2Fstream"/.exec(page)?.[1]
  t.ok(src, 'the view of a signed stream, and where it asks a fresh URL')
  const signed = await RawClient.get(command.port, (src ?? '').replace(/&amp;/g, '&'))
  await signed.until((data) => data.includes('Content-Type: image/jpeg'))
  t.match(signed.data.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n(.+\r\n)*Transfer-Encoding: chunked\r\n/, 'a signed stream, chunked by the config file')
  signed.destroy()
  const fresh = await get(`${command.origin}/signed-url?path=%2Fyard%2Fsnapshot`, { headers: auth })
  t.match(await fresh.text(), /^\/yard\/snapshot\?expires=\d+&signature=[\w-]{43}$/)
  t.equal((await get(`${command.origin}/signed-url?path=%2Fstate`, { headers: auth })).status, 404, 'only streams and snapshots are signed')
  t.equal((await get(`${command.origin}/signed-url`, { headers: auth })).status, 404)
  const action = /href="(\/door\/\?action=snapshot&amp;expires=\d+&amp;signature=[\w-]+)"/.exec(page)?.[1]
  t.equal((await get(command.origin + (action ?? '').replace(/&amp;/g, '&'))).headers.get('content-type'), 'image/jpeg', 'a signed ?action=snapshot')

  // A publisher POSTs JPEGs to the ingest camera's stream with the same credentials.
  const publisher = await get(`${command.origin}/yard/stream`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: Buffer.concat([THUMB_1, THUMB_1]) })
  t.same(await publisher.json(), { frames: 2 })
  const unauthorized = await get(`${command.origin}/yard/stream`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: THUMB_1 })
  t.match(await unauthorized.json(), { code: 'FST_SERVER_PUSH_INGEST_UNAUTHORIZED' })

  const state = await (await get(`${command.origin}/state`, { headers: auth })).json() as { result: { cameras: Record<string, unknown> } }
  t.same(Object.keys(state.result.cameras), ['door', 'yard', 'desk'])
  t.match(state.result.cameras.door, { source: { kind: 'dir', desired_fps: 5 } })
  t.match(state.result.cameras.yard, { source: { kind: 'ingest' }, stats: { framesPublished: 2 } })
  const metrics = await (await get(`${command.origin}/metrics`, { headers: auth })).text()
  t.match(metrics, /^fastify_server_push_viewers\{route="\/door\/stream"\} \d+$/m)
  t.match(metrics, /^process_cpu_user_seconds_total /m, 'the process\'s own metrics too')
})

t.test('a camera published to Redis is shown from Redis; a command\'s camera runs while watched', async (t) => {
  const redis = await startRedis(t)
  const file = join(dir, 'redis.json')
  writeFileSync(file, JSON.stringify({
    cameras: [
      { name: 'test', command: 'exec ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 -f mjpeg -', redis: redis.url, channel: 'test', publish: true },
      { name: 'shown', redis: redis.url, channel: 'test' }
    ]
  }))
  const command = await start(t, ['--config', file])
  const viewers = await Promise.all(['/test/stream', '/shown/stream'].map(async (path) => await RawClient.get(command.port, path)))
  const [published, shown] = await Promise.all(viewers.map(async (viewer) => (await viewer.parts(3)).multipart.parts))
  t.ok(published?.every(({ body }) => body[0] === 0xff && body[1] === 0xd8), 'JPEGs from ffmpeg, through Redis')
  t.ok(shown?.some(({ headers }) => published?.some((part) => part.headers['x-timestamp'] === headers['x-timestamp'])), 'the same frames on both routes')
  t.equal(await command.stop(), 0)
})

t.test('a package an option needs that is not installed: the option\'s error, saying how to add it', async (t) => {
  // Node's own error for an import of a package not installed (tap's TypeScript loader, which this file runs
  // under, throws one without its code; the built command runs under Node's).
  const notInstalled = async (): Promise<never> => { throw Object.assign(new Error('Cannot find package \'prom-client\''), { code: 'ERR_MODULE_NOT_FOUND' }) }
  await t.rejects(optional(notInstalled, '--metrics', 'prom-client'), {
    code: 'FST_SERVER_PUSH_COMMAND_USAGE',
    message: '--metrics needs the package prom-client: npx -p fastify-server-push -p prom-client fastify-server-push …, or npm i prom-client'
  })
  await t.rejects(optional(async () => { throw new Error('broken') }, '--metrics', 'prom-client'), { message: 'broken' }, 'other errors as they are')
})

t.test('a config whose second camera cannot open: status 2, and the first one\'s server and publisher closed', async (t) => {
  const redis = await startRedis(t)
  const file = join(dir, 'half.json')
  writeFileSync(file, JSON.stringify({ cameras: [{ name: 'a', dir: FRAMES.pathname, redis: redis.url, channel: 'a', publish: true }, { name: 'b', dir: tempDir('cli-none') }] }))
  const { status, stderr } = await finished(['--config', file, '--log-level', 'silent'])
  t.equal(status, 2)
  t.match(stderr, /^fastify-server-push: camera "b": no image, HTML or text files in /)
})

t.test('TLS: HTTP/2 and HTTP/1.1 on one port; a relay whose upstream is down is offline, its snapshot 503', async (t) => {
  const { cert, certPath, keyPath } = certificate()
  const command = await start(t, ['--relay', 'http://127.0.0.1:1/video.mjpg', '--tls-cert', certPath, '--tls-key', keyPath])
  t.match(command.origin, /^https:\/\/127\.0\.0\.1:\d+$/)
  const session = connect(command.origin, { ca: cert })
  t.teardown(() => session.close())
  const stream = session.request({ ':path': '/state' })
  const [headers] = await once(stream, 'response') as [Record<string, string | number>]
  let body = ''
  for await (const chunk of stream) body += String(chunk)
  t.equal(headers[':status'], 200, 'HTTP/2')
  t.match(JSON.parse(body), { result: { source: { kind: 'relay' } } })
  const http1 = await new Promise<{ status: number | undefined, retryAfter: string | undefined }>((resolve, reject) => {
    httpsRequest(`${command.origin}/snapshot`, { ca: cert }, (response) => {
      response.resume()
      resolve({ status: response.statusCode, retryAfter: response.headers['retry-after'] })
    }).on('error', reject).end()
  })
  t.same(http1, { status: 503, retryAfter: '5' }, 'HTTP/1.1: the snapshot of a camera gone offline')
})

t.test('told to stop as it starts listening: it closes at once, with status 0', async (t) => {
  const stop = new AbortController()
  const status = await main(['--ingest', '--allow-anonymous-ingest', '--port', '0', '--log-level', 'silent'], {
    stdout: () => {}, stderr: () => {}, env: {}, stop: stop.signal, listening: () => stop.abort('SIGINT')
  })
  t.equal(status, 0)
})

t.test('signed streams without a password: no index page, nor anything that signs', async (t) => {
  const command = await start(t, ['--dir', FRAMES.pathname, '--signing-key', 's'.repeat(32)])
  for (const path of ['/', '/signed-url?path=%2Fstream']) t.equal((await get(command.origin + path)).status, 404, path)
  t.equal((await get(`${command.origin}/stream`)).status, 403, 'an unsigned stream')
  t.equal((await get(`${command.origin}/state`)).status, 200, 'the state is no picture')
})

t.test('told to stop while it set its cameras up: it closes without ever listening, status 0', async (t) => {
  let listened = false
  const status = await main(['--dir', FRAMES.pathname, '--port', '0', '--log-level', 'silent'], {
    stdout: () => {}, stderr: () => {}, env: {}, stop: AbortSignal.abort('SIGTERM'), listening: () => { listened = true }
  })
  t.same({ status, listened }, { status: 0, listened: false })
})
