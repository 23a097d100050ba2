// The command, run as a user runs it (`node dist/esm/cli.js`, and the package's bin as npm installs it): each kind
// of source with real ffmpeg (its test pattern stands in for a camera; --device is checked through the ffmpeg
// command it builds and logs), real clients on every path (curl, ffmpeg, raw sockets, HTTP/2), mistakes that are one
// line and exit 2, and signals that end streams well-formed and leave nothing running.
// Each case runs commands of its own, side by side (t.jobs): what they prove comes from bytes and counts, never times.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { dead, plainEnv, ROOT, run } from './helpers/child.js'
import {
  basic, chunkedMultipart, descendants, isJpeg, programOf, runCli, startCli, TESTSRC, until, type Cli
} from './helpers/cli.js'
import { startRedis } from './helpers/redis.js'
import { parseMultipart, partsOf, RawClient, type ParsedPart } from './helpers/wire-client.js'

t.jobs = 6

/** The manual, read once: its test and --device's both look at it. */
const HELP = runCli(['--help'])
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
// test/fixtures/tls: a self-signed certificate for 127.0.0.1, long-lived, trusted by no one but these clients.
const CERT = join(ROOT, 'test/fixtures/tls/cert.pem')
const KEY = join(ROOT, 'test/fixtures/tls/key.pem')
const COLOURS = ['red', 'green', 'blue'].map((name) => readFileSync(join(ROOT, 'test/fixtures/colours', `${name}.jpg`)))

/** A directory removed when the test run ends. */
function temp (): string {
  const dir = mkdtempSync(join(tmpdir(), 'push-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A directory of the three colour JPEGs, for --dir, which shows them in name order. */
function colourDir (): string {
  const dir = temp()
  ;['red', 'green', 'blue'].forEach((name, i) => copyFileSync(join(ROOT, 'test/fixtures/colours', `${name}.jpg`), join(dir, `${i}-${name}.jpg`)))
  return dir
}

const isColour = (body: Buffer): boolean => COLOURS.some((jpeg) => jpeg.equals(body))
const frames = (parts: readonly ParsedPart[]): ParsedPart[] => parts.filter((part) => part.headers['x-offline'] === undefined)

/** `GET path` with fetch: status, headers and the body as bytes (for paths whose answer ends). */
async function get (cli: Cli, path: string, authorization?: string): Promise<{ status: number, headers: Headers, body: Buffer }> {
  const res = await fetch(`${cli.origin}${path}`, { headers: authorization === undefined ? {} : { authorization } })
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) }
}

/** The /state answer, parsed. */
async function state (cli: Cli, authorization?: string): Promise<{ ok: boolean, result: Record<string, unknown> }> {
  return JSON.parse((await get(cli, '/state', authorization)).body.toString()) as { ok: boolean, result: Record<string, unknown> }
}

/** Sends SIGTERM (or `signal`) and checks the command exits 0 on it. */
async function stops (t: Test, cli: Cli, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const exit = await cli.stop(signal)
  t.same(exit, { code: 0, signal: null }, `${signal}: exit 0; stderr: ${cli.stderr()}`)
}

t.test('--help prints the manual, --version the version: exit 0, nothing on standard error', async (t) => {
  const [help, version] = await Promise.all([HELP, runCli(['--version'])])
  t.equal(help.code, 0)
  t.equal(help.stderr, '')
  for (const section of ['NAME', 'SYNOPSIS', 'SOURCES', 'OPTIONS', 'PATHS', 'CONFIG FILE', 'SIGNALS', 'EXIT STATUS', 'EXAMPLES']) {
    t.match(help.stdout, new RegExp(`^${section}( |$)`, 'm'), section)
  }
  t.match(help.stdout, /^ +ffmpeg .*-f v4l2 -input_format mjpeg -i \/dev\/video0 .*-c:v copy -f mjpeg -$/m, 'the device\'s ffmpeg command')
  t.same(help.stdout.split('\n').filter((line) => line.length > 80), [], 'every line fits 80 columns')
  t.same(version, { code: 0, stdout: `${VERSION}\n`, stderr: '' })
})

t.test('a mistake in options or config file: one line on standard error naming it, nothing on standard output, exit 2', async (t) => {
  const dir = colourDir()
  const files = temp()
  const config = (name: string, text: string): string => {
    writeFileSync(join(files, name), text)
    return join(files, name)
  }
  const cases: Array<[string[], RegExp]> = [
    [['--frobnicate'], /frobnicate/],
    [['--dir', dir, '--port', 'eighty'], /--port/],
    [['--config', join(files, 'absent.json')], /absent\.json/],
    [['--config', config('malformed.json', '{ "cameras": [ { "name": "door", ')], /malformed\.json/],
    [['--config', config('unknown.json', JSON.stringify({ cameras: [{ name: 'door', dir }], colour: 'red' }))], /colour/],
    [['--config', config('sourceless.json', JSON.stringify({ cameras: [{ name: 'door' }] }))], /cameras|door|source/],
    [['--dir', dir, '--command', 'true'], /--dir|--command|source/],
    [['--ingest'], /--user|--password|anonymous/],
    [['--dir', dir, '--tls-cert', CERT], /--tls-key/],
    [['--dir', join(dir, 'nowhere')], /nowhere/]
  ]
  const results = await Promise.all(cases.map(([args]) => runCli(args)))
  cases.forEach(([args, names], i) => {
    const { code, stdout, stderr } = results[i] as Awaited<ReturnType<typeof runCli>>
    const what = args.join(' ').replaceAll(`${files}/`, '').replaceAll(dir, 'DIR')
    t.equal(code, 2, `${what}: exit 2`)
    t.equal(stdout, '', `${what}: nothing on standard output`)
    t.match(stderr, /^fastify-server-push: [^\n]+\n$/, `${what}: one line on standard error`)
    t.match(stderr, names, `${what}: the line names what is wrong`)
    t.comment(`${what} -> ${stderr.trim()}`)
  })
})

t.test('the port taken: one line on standard error, exit 1', async (t) => {
  const taken = createServer().listen(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => { taken.close() })
  const { port } = taken.address() as { port: number }
  const { code, stderr } = await runCli(['--dir', colourDir(), '--port', String(port)])
  t.equal(code, 1)
  t.match(stderr, /^fastify-server-push: [^\n]+\n$/, 'one line')
  t.match(stderr, new RegExp(`EADDRINUSE|in use|taken|${port}`), stderr)
})

t.test('--command: every path, read by raw clients, curl and ffmpeg; SIGTERM with viewers ends the streams well-formed and leaves nothing running', async (t) => {
  // `sleep` writes nothing: a command merely abandoned would leave it running (no SIGPIPE can reach it), so it
  // shows that the command's whole process group is stopped, as ffmpeg alone would not.
  const cli = await startCli(t, ['--command', `sleep 600 & ${TESTSRC}`])
  const viewers = await Promise.all(['/stream', '/?action=stream'].map((path) => RawClient.get(cli.port, path)))
  for (const [i, viewer] of viewers.entries()) {
    const { statusLine, headers, multipart } = await viewer.parts(3)
    t.equal(statusLine, 'HTTP/1.1 200 OK')
    t.match(headers['content-type'], /^multipart\/x-mixed-replace;boundary=/)
    t.ok(multipart.parts.every((part) => part.headers['content-type'] === 'image/jpeg' && isJpeg(part.body)), `${['/stream', '/?action=stream'][i]}: JPEG parts`)
  }
  await until(async () => ((await state(cli)).result.stream as { clients?: number } | undefined)?.clients === 2, '/state counting the two viewers')
  t.match(await state(cli), { ok: true, result: { source: { online: true }, stream: { clients: 2 } } }, '/state as ustreamer\'s')

  const dir = temp()
  for (const path of ['/snapshot', '/?action=snapshot']) {
    const file = join(dir, 'snapshot.jpg')
    const curl = await run('curl', ['-sS', '--fail', '-o', file, '-w', '%{content_type}', `${cli.origin}${path}`])
    t.equal(curl.code, 0, curl.stderr)
    t.equal(curl.stdout, 'image/jpeg', `curl ${path}: image/jpeg`)
    t.ok(isJpeg(readFileSync(file)), `curl ${path}: a JPEG`)
  }
  // ffmpeg reads the stream as a player would: three frames, each one packet of the MJPEG stream.
  const ffmpeg = await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', `${cli.origin}/stream`, '-frames:v', '3', '-c', 'copy', '-f', 'framecrc', '-'])
  t.equal(ffmpeg.code, 0, ffmpeg.stderr)
  t.equal(ffmpeg.stdout.split('\n').filter((line) => /^0, /.test(line)).length, 3, 'ffmpeg read three frames')

  const index = await get(cli, '/')
  t.equal(index.status, 200)
  t.match(index.headers.get('content-type'), /^text\/html/)
  const html = index.body.toString()
  for (const path of ['/stream', '/snapshot', '/state', '/?action=stream', '/?action=snapshot']) t.ok(html.includes(`"${path}"`), `the index page links to ${path}`)
  t.match(html, /<push-view[^>]+src="\/stream"/, 'and shows the stream as a view')
  t.match(html, /<script[^>]+src="\/push-view\.js"/)
  const script = await get(cli, '/push-view.js')
  t.equal(script.status, 200)
  t.match(script.headers.get('content-type'), /javascript/)
  t.match(script.body.toString(), /customElements\.define\('push-view'/)

  // SIGTERM with the two viewers on and ffmpeg running below the command.
  const pid = cli.child.pid as number
  const tree = descendants(pid)
  t.ok(tree.some((child) => programOf(child) === 'ffmpeg') && tree.some((child) => programOf(child) === 'sleep'), `ffmpeg and sleep run below the command (${tree.map(programOf).join(', ')})`)
  await stops(t, cli)
  for (const viewer of viewers) t.ok((await viewer.end()).multipart.closed, 'the stream ended with its close delimiter')
  await until(() => tree.every(dead), `the command's processes gone (${tree.filter((child) => !dead(child)).map(programOf).join(', ')})`)
  t.pass('nothing left running')
  t.ok(cli.logs().every((line) => typeof line.level === 'number' && typeof line.time === 'number' && typeof line.msg === 'string'), 'every line of standard output a pino log line')
  t.equal(cli.stderr(), '')
})

t.test('--dir behind --user and --password, --chunked, --metrics, relayed by a second command; SIGINT', async (t) => {
  const auth = basic('admin', 'secret')
  const cli = await startCli(t, ['--dir', colourDir(), '--interval-ms', '100', '--user', 'admin', '--password', 'secret', '--chunked', '--metrics', '--name', 'slides'])
  const refusals = ['/', '/stream', '/snapshot', '/state', '/?action=stream', '/?action=snapshot', '/push-view.js', '/metrics']
    .flatMap((path) => [['none', undefined], ['a wrong password', basic('admin', 'guess')]].map(([credentials, authorization]) => ({ path, credentials, authorization })))
  const answers = await Promise.all(refusals.map(({ path, authorization }) => get(cli, path, authorization)))
  refusals.forEach(({ path, credentials }, i) => {
    const { status, headers } = answers[i] as Awaited<ReturnType<typeof get>>
    t.equal(status, 401, `${path} with ${credentials}: 401`)
    t.match(headers.get('www-authenticate'), /^Basic /, `${path}: WWW-Authenticate: Basic`)
  })
  const viewer = await RawClient.get(cli.port, '/stream', { headers: [`Authorization: ${auth}`] })
  await viewer.until((data) => data.includes('\r\n\r\n'))
  const head = viewer.data.subarray(0, viewer.data.indexOf('\r\n\r\n')).toString('latin1')
  t.match(head, /^HTTP\/1\.1 200 /)
  t.match(head, /^transfer-encoding: chunked$/im, '--chunked: Transfer-Encoding: chunked')
  const boundary = /^content-type: multipart\/x-mixed-replace;boundary=(\S+)$/im.exec(head)?.[1] ?? ''
  t.not(boundary, '')
  await viewer.until((data) => new Set(chunkedMultipart(data, boundary).parts.map((part) => part.body.toString('base64'))).size >= 3)
  t.ok(chunkedMultipart(viewer.data, boundary).parts.every((part) => isColour(part.body)), 'every part one of the folder\'s files, all three shown')

  const file = join(temp(), 'snapshot.jpg')
  const curl = await run('curl', ['-sS', '--fail', '-u', 'admin:secret', '-o', file, `${cli.origin}/?action=snapshot`])
  t.equal(curl.code, 0, curl.stderr)
  t.ok(isColour(readFileSync(file)), 'curl -u: the snapshot, one of the files')
  const metrics = await get(cli, '/metrics', auth)
  t.equal(metrics.status, 200)
  t.match(metrics.body.toString(), /streams_started_total/, '/metrics: Prometheus text')
  t.match(await state(cli, auth), { ok: true, result: { source: { name: 'slides', online: true } } }, '/state: the camera by its --name')
  t.match((await get(cli, '/', auth)).body.toString(), /<h2>slides<\/h2>/, 'and the index page')

  // Another instance of the command relays this one, user and password in the URL.
  const relay = await startCli(t, ['--relay', `http://admin:secret@127.0.0.1:${cli.port}/stream`])
  const relayed = await RawClient.get(relay.port, '/stream')
  const parts = frames((await relayed.parts(3)).multipart.parts)
  t.ok(parts.length > 0 && parts.every((part) => isColour(part.body)), '--relay: the first command\'s frames')
  await stops(t, relay)
  t.ok((await relayed.end()).multipart.closed)

  await stops(t, cli, 'SIGINT')
  await viewer.closed
  const end = chunkedMultipart(viewer.data, boundary)
  t.ok(end.closed && end.last, 'SIGINT: the close delimiter, then the last chunk')
})

t.test('--signing-key and the password from the environment: unsigned URLs refused, the index page\'s signed ones open', async (t) => {
  const key = 'a signing key of the test, 32 bytes or more'
  const auth = basic('admin', 'from-env')
  const cli = await startCli(t, ['--dir', colourDir(), '--user', 'admin'], { env: plainEnv({ SERVER_PUSH_PASSWORD: 'from-env', SERVER_PUSH_SIGNING_KEY: key }) })
  t.equal((await get(cli, '/')).status, 401, 'the password from SERVER_PUSH_PASSWORD is asked for')
  for (const path of ['/stream', '/snapshot', '/?action=stream', '/?action=snapshot']) t.equal((await get(cli, path, auth)).status, 403, `${path} unsigned: 403, credentials or not`)
  const html = (await get(cli, '/', auth)).body.toString()
  const links = [...html.matchAll(/href="([^"]+)"/g)].map(([, href]) => (href as string).replaceAll('&amp;', '&'))
  const stream = links.find((href) => href.startsWith('/stream?'))
  const snapshot = links.find((href) => href.startsWith('/snapshot?'))
  t.match(stream, /[?&]signature=/, `the index page signs its links (${links.join(' ')})`)
  const viewer = await RawClient.get(cli.port, stream as string)
  t.ok((await viewer.parts(1)).multipart.parts.every((part) => isColour(part.body)), 'the signed stream URL opens, no credentials needed')
  t.ok(isColour((await get(cli, snapshot as string)).body), 'and the signed snapshot URL')
  t.notOk(cli.stdout().includes(key) || cli.stdout().includes('from-env'), 'neither secret in the logs')
  viewer.destroy()
  await stops(t, cli)
})

t.test('--device: the ffmpeg command it runs is logged as --help shows it; a missing device\'s cause is logged at warn, its viewers see the offline picture', async (t) => {
  const device = `/dev/video-missing-${randomBytes(4).toString('hex')}`
  const cli = await startCli(t, ['--device', device])
  const setup = await cli.waitForLog((line) => line.msg === 'server push command', '"server push command"')
  t.equal(setup.level, 30)
  const command = String(setup.command)
  t.match(command, new RegExp(`^ffmpeg .*-f v4l2 -input_format mjpeg -i ${device} .*-c:v copy -f mjpeg -$`))
  const help = await HELP
  t.ok(help.stdout.includes(command.replace(device, '/dev/video0')), 'the same command as in --help')
  const viewer = await RawClient.get(cli.port, '/stream')
  const exited = await cli.waitForLog((line) => line.msg === 'server push command exited' && line.stderr !== undefined, '"server push command exited" with stderr')
  t.equal(exited.level, 40)
  // The last lines of ffmpeg's standard error, as one text or as its lines.
  const tail = ([] as unknown[]).concat(exited.stderr).join('\n')
  t.match(tail, `${device}: No such file or directory`, `ffmpeg's own words: ${tail}`)
  const [first] = (await viewer.parts(1)).multipart.parts as [ParsedPart]
  t.ok(first.headers['x-offline'] !== undefined && isJpeg(first.body), 'the viewer sees the offline picture')
  viewer.destroy()
  await stops(t, cli)
})

t.test('--ingest with --user and --password: ffmpeg publishes while three viewers read the same bytes; a second publisher gets 409', async (t) => {
  const auth = basic('cam', 'secret')
  const cli = await startCli(t, ['--ingest', '--user', 'cam', '--password', 'secret'])
  t.equal((await get(cli, '/stream')).status, 401, 'a viewer without credentials: 401')
  const refused = await fetch(`${cli.origin}/stream`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: COLOURS[0] })
  t.equal(refused.status, 401, 'a publisher without credentials: 401')
  await refused.arrayBuffer()
  const viewers = await Promise.all([0, 1, 2].map(() => RawClient.get(cli.port, '/stream', { headers: [`Authorization: ${auth}`] })))
  const publisher = spawn('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10',
    '-f', 'mpjpeg', '-method', 'POST', '-auth_type', 'basic', `http://cam:secret@127.0.0.1:${cli.port}/stream`], { stdio: 'ignore' })
  t.teardown(() => { publisher.kill('SIGKILL') })
  await until(() => viewers.every((viewer) => frames(partsOf(viewer)).length >= 5), 'five frames for each viewer')
  const busy = await fetch(`${cli.origin}/stream`, { method: 'POST', headers: { authorization: auth, 'content-type': 'image/jpeg' }, body: COLOURS[0] })
  t.equal(busy.status, 409, 'a second publisher: 409')
  await busy.arrayBuffer()
  // A frame two viewers got (by its timestamp) is the same bytes: ffmpeg's JPEG.
  const byStamp = new Map<string, Buffer>()
  let shared = 0
  for (const viewer of viewers) {
    for (const part of frames(partsOf(viewer))) {
      const stamp = String(part.headers['x-timestamp'])
      const seen = byStamp.get(stamp)
      if (seen === undefined) byStamp.set(stamp, part.body)
      else if (seen.equals(part.body)) shared++
      else t.fail(`two viewers got different bytes for the frame of ${stamp}`)
    }
  }
  t.ok([...byStamp.values()].every(isJpeg), 'JPEG frames')
  t.ok(shared >= 5, `frames the viewers share, byte for byte: ${shared}`)
  await stops(t, cli)
  for (const viewer of viewers) t.ok((await viewer.end()).multipart.closed)
})

t.test('a config file of three cameras: each camera\'s paths below /NAME/, /state lists them, an anonymous ingest; the command line wins', async (t) => {
  const file = join(temp(), 'cameras.json')
  writeFileSync(file, JSON.stringify({
    logLevel: 'silent',
    cameras: [
      { name: 'door', dir: colourDir(), intervalMs: 100 },
      { name: 'desk', command: TESTSRC },
      { name: 'yard', ingest: 'anonymous' }
    ]
  }))
  // The file says silent; --log-level info is given, so the "Server listening" line comes.
  const cli = await startCli(t, ['--config', file, '--log-level', 'info'])
  for (const path of ['/door/stream', '/door/?action=stream']) {
    const viewer = await RawClient.get(cli.port, path)
    t.ok((await viewer.parts(2)).multipart.parts.every((part) => isColour(part.body)), `${path}: the folder's files`)
    viewer.destroy()
  }
  const desk = await RawClient.get(cli.port, '/desk/stream')
  t.ok(isJpeg((await desk.parts(1)).multipart.parts[0]?.body as Buffer), '/desk/stream: the command\'s JPEGs')
  for (const path of ['/desk/snapshot', '/desk/?action=snapshot']) {
    const snapshot = await get(cli, path)
    t.equal(snapshot.headers.get('content-type'), 'image/jpeg')
    t.ok(isJpeg(snapshot.body), `${path}: a JPEG`)
  }
  // A publisher with no credentials at all, which "ingest": "anonymous" lets in; held open while it is looked at.
  const post = http.request({ host: '127.0.0.1', port: cli.port, path: '/yard/stream', method: 'POST', headers: { 'content-type': 'image/jpeg' } })
  const answer = new Promise<number>((resolve, reject) => {
    post.on('response', (res) => { res.resume(); resolve(res.statusCode as number) })
    post.on('error', reject)
  })
  post.write(COLOURS[2])
  await until(async () => (await get(cli, '/yard/snapshot')).body.equals(COLOURS[2] as Buffer), '/yard/snapshot showing the frame posted')
  t.pass('the anonymous publisher\'s frame is /yard/snapshot')
  post.end()
  t.ok(await answer < 300, 'the publisher is answered 2xx')

  const all = await state(cli)
  t.equal(all.ok, true)
  const cameras = all.result.cameras as Record<string, unknown>
  t.same(Object.keys(cameras).sort(), ['desk', 'door', 'yard'], '/state lists every camera')
  t.match(cameras, { door: { source: { online: true }, stream: {} }, desk: { source: { online: true } } })
  const html = (await get(cli, '/')).body.toString()
  for (const name of ['door', 'desk', 'yard']) {
    t.ok(html.includes(`"/${name}/stream"`) && html.includes(`"/${name}/snapshot"`), `the index page links to /${name}/stream and /${name}/snapshot`)
  }
  t.equal((await get(cli, '/stream')).status, 404, 'no camera at /stream when there are several')
  const ffmpeg = (): number[] => descendants(cli.child.pid as number).filter((pid) => programOf(pid) === 'ffmpeg' && !dead(pid))
  t.equal(ffmpeg().length, 1, 'desk\'s ffmpeg runs while it has a viewer')
  desk.destroy()
  await until(() => ffmpeg().length === 0, 'desk\'s ffmpeg stopped after its last viewer')
  t.pass('and stops after the last one leaves')
  await stops(t, cli)
})

t.test('--tls-cert and --tls-key: HTTP/2 and HTTP/1.1 on one port; --max-clients', async (t) => {
  const cli = await startCli(t, ['--dir', colourDir(), '--interval-ms', '100', '--tls-cert', CERT, '--tls-key', KEY, '--max-clients', '1'])
  t.match(cli.origin, /^https:/)
  const ca = readFileSync(CERT)
  const session = http2.connect(cli.origin, { ca })
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  const h2 = session.request({ ':path': '/stream' })
  const chunks: Buffer[] = []
  h2.on('data', (chunk: Buffer) => chunks.push(chunk))
  h2.on('error', () => {})
  const [headers] = await once(h2, 'response') as [http2.IncomingHttpHeaders]
  t.equal(headers[':status'], 200)
  const boundary = /boundary=(.+)$/.exec(String(headers['content-type']))?.[1] ?? ''
  const h2Parts = (): ParsedPart[] => parseMultipart(Buffer.concat(chunks), boundary).parts
  await until(() => h2Parts().length >= 3, 'three parts over HTTP/2')
  t.ok(h2Parts().every((part) => isColour(part.body)), 'HTTP/2: the folder\'s files')
  const http1 = (path: string): Promise<http.IncomingMessage> => new Promise((resolve, reject) => {
    https.get(`${cli.origin}${path}`, { ca }, resolve).on('error', reject)
  })
  const snapshot = await http1('/snapshot')
  t.equal(snapshot.httpVersion, '1.1', 'HTTP/1.1 on the same port')
  const body = Buffer.concat(await snapshot.toArray() as Buffer[])
  t.ok(isColour(body), 'the snapshot over HTTP/1.1')
  const second = await http1('/stream')
  t.equal(second.statusCode, 503, '--max-clients 1: a second viewer refused while the first watches')
  second.resume()
  h2.close()
  await until(async () => {
    const next = await http1('/stream')
    next.destroy()
    return next.statusCode === 200
  }, 'a viewer let in once the first has left')
  t.pass('the next viewer is let in')
  session.close()
  await stops(t, cli)
})

t.test('--redis with --publish, and a second command showing the channel (--log-level warn: no line under warn)', async (t) => {
  const redis = await startRedis(t)
  const publisher = await startCli(t, ['--command', TESTSRC, '--redis', redis.url, '--channel', 'cam', '--publish'])
  const shower = await startCli(t, ['--redis', redis.url, '--channel', 'cam', '--log-level', 'warn'], { ready: 'connect' })
  const viewers = await Promise.all([publisher, shower].map((cli) => RawClient.get(cli.port, '/stream')))
  const stamps = (viewer: RawClient): Map<string, Buffer> => new Map(frames(partsOf(viewer)).map((part) => [String(part.headers['x-timestamp']), part.body]))
  await until(() => [...stamps(viewers[0] as RawClient).keys()].some((stamp) => stamps(viewers[1] as RawClient).has(stamp)), 'a frame both commands showed')
  const [mine, theirs] = viewers.map(stamps) as [Map<string, Buffer>, Map<string, Buffer>]
  const both = [...mine.keys()].filter((stamp) => theirs.has(stamp))
  t.ok(both.every((stamp) => isJpeg(mine.get(stamp) as Buffer) && mine.get(stamp)?.equals(theirs.get(stamp) as Buffer)), `the same JPEG, byte for byte, on both (${both.length} frames)`)
  await Promise.all([stops(t, publisher), stops(t, shower)])
  for (const viewer of viewers) t.ok((await viewer.end()).multipart.closed)
  t.same(shower.logs().filter((line) => line.level < 40), [], '--log-level warn: nothing under warn')
})

t.test('through the package\'s bin, as npm installs it: --version and a stream', async (t) => {
  const prefix = temp()
  writeFileSync(join(prefix, 'package.json'), '{"private":true}')
  // A link to this checkout, as `npm install <folder>` makes it: no download (--offline), no build (--ignore-scripts).
  const install = await run('npm', ['install', '--prefix', prefix, '--no-save', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ROOT], { env: plainEnv({ npm_config_loglevel: 'error' }) })
  t.equal(install.code, 0, install.stderr)
  const bin = join(prefix, 'node_modules/.bin/fastify-server-push')
  t.same(await run(bin, ['--version']), { code: 0, stdout: `${VERSION}\n`, stderr: '' })
  const cli = await startCli(t, ['--dir', colourDir()], { bin })
  const viewer = await RawClient.get(cli.port, '/stream')
  t.ok(isColour((await viewer.parts(1)).multipart.parts[0]?.body as Buffer), 'a stream of the folder\'s files')
  await stops(t, cli)
  t.ok((await viewer.end()).multipart.closed)
})

t.test('a second signal kills a command deaf to SIGTERM with its group, and exits; a password in the command line is logged as ***', async (t) => {
  const jpeg = join(temp(), 'red.jpg')
  writeFileSync(jpeg, COLOURS[0] as Buffer)
  // A shell that ignores SIGTERM and SIGINT: the first signal's SIGTERM to its group leaves it running.
  const cli = await startCli(t, ['--command', `trap '' TERM INT; while :; do cat ${jpeg}; sleep 0.2; done; : rtsp://admin:Secr3t@cam.local/x`])
  const setup = await cli.waitForLog((line) => line.msg === 'server push command', '"server push command"')
  t.match(String(setup.command), 'rtsp://admin:***@cam.local/x', 'the password masked')
  t.notMatch(cli.stdout(), 'Secr3t', 'and nowhere in the log')
  const viewer = await RawClient.get(cli.port, '/stream')
  await viewer.parts(1)
  const tree = descendants(cli.child.pid as number)
  t.ok(tree.length > 0, 'the command runs')
  cli.child.kill('SIGTERM')
  await cli.waitForLog((line) => line.msg === 'closing: every stream ends, every command stops', 'the first signal taken')
  cli.child.kill('SIGTERM')
  const exit = await cli.exited
  // 1 when the second signal came before the command's own SIGKILL, 2 s after the first (a busy machine may be later).
  t.ok(exit.code === 1 || exit.code === 0, `exit ${exit.code}`)
  await until(() => tree.every(dead), `the command's processes gone (${tree.filter((child) => !dead(child)).map(programOf).join(', ')})`)
  t.pass('nothing left running')
  viewer.destroy()
})
