// The command's options and config file, read and checked in this process: what each gives, and every mistake a
// user can make as its one-line message (test/cli.test.ts runs the command itself and sees the same lines).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkConfig } from '../lib/cli/config.js'
import { parseCommandLine } from '../lib/cli/options.js'
import { actionUrl, cameraPaths } from '../lib/cli/paths.js'
import { tempDir } from './helpers/app.js'
import { certificate } from './helpers/protocols.js'

const dir = tempDir('cli-options')

/** A config file holding `value` (as JSON, or as it is when a string). */
function configFile (value: unknown): string {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value))
  return path
}

/** The command's config for these arguments and environment. */
function config (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof checkConfig> {
  const line = parseCommandLine(args)
  if (line.kind !== 'serve') throw new Error(`not a server: ${line.kind}`)
  return checkConfig(line, env)
}

/** The message of the usage error these arguments give. */
function mistake (args: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    config(args, env)
  } catch (err) {
    const { code, message } = err as { code: string, message: string }
    if (code !== 'FST_SERVER_PUSH_COMMAND_USAGE') throw err
    return message
  }
  throw new Error(`no error for ${args.join(' ')}`)
}

t.test('--help and --version win over anything else given', async (t) => {
  t.same(parseCommandLine(['--dir', 'x', '--help']), { kind: 'help' })
  t.same(parseCommandLine(['--version', '--port', '1']), { kind: 'version' })
})

t.test('one camera from the options, with the defaults', async (t) => {
  const { cameras, ...serving } = config(['--dir', './frames'])
  t.same(serving, { port: 8080, host: '127.0.0.1', tls: undefined, user: undefined, signingKey: undefined, chunked: false, metrics: false, logLevel: 'info' })
  t.same(cameras, [{ name: 'camera', source: { kind: 'dir', path: './frames' }, publish: undefined, intervalMs: 1000, maxFps: undefined, maxClients: undefined }])
  t.same(config(['--dir', './frames', '--']).cameras[0]?.source, { kind: 'dir', path: './frames' }, 'a "--" ending the options')
})

t.test('each source option, and the serving options', async (t) => {
  const { certPath, keyPath } = certificate()
  const given = config(['--command', 'ffmpeg -f mjpeg -', '--name', 'door', '--port', '0', '--host', '::', '--tls-cert', certPath, '--tls-key', keyPath,
    '--user', 'admin', '--password', 'secret', '--signing-key', 'k'.repeat(32), '--interval-ms', '250', '--max-fps', '.5', '--max-clients', '3',
    '--chunked', '--metrics', '--log-level', 'debug'])
  t.match(given, { port: 0, host: '::', user: { username: 'admin', password: 'secret' }, signingKey: 'k'.repeat(32), chunked: true, metrics: true, logLevel: 'debug' })
  t.ok(given.tls?.cert.toString().includes('BEGIN CERTIFICATE'), 'the certificate read')
  t.same(given.cameras[0], { name: 'door', source: { kind: 'command', command: 'ffmpeg -f mjpeg -' }, publish: undefined, intervalMs: 250, maxFps: 0.5, maxClients: 3 })
  t.same(config(['--device', '/dev/video0']).cameras[0]?.source, { kind: 'device', path: '/dev/video0' })
  t.same(config(['--relay', 'https://cam/video.mjpg']).cameras[0]?.source, { kind: 'relay', url: 'https://cam/video.mjpg' })
  t.same(config(['--redis', 'redis://h:6379', '--channel', 'door']).cameras[0]?.source, { kind: 'redis', url: 'redis://h:6379', channel: 'door' })
  const published = config(['--relay', 'http://cam/v', '--redis', 'rediss://h', '--channel', 'door', '--publish']).cameras[0]
  t.same([published?.source, published?.publish], [{ kind: 'relay', url: 'http://cam/v' }, { url: 'rediss://h', channel: 'door' }])
  t.same(config(['--ingest', '--user', 'u', '--password', 'p']).cameras[0]?.source, { kind: 'ingest', anonymous: false })
  t.same(config(['--ingest', '--allow-anonymous-ingest']).cameras[0]?.source, { kind: 'ingest', anonymous: true })
})

t.test('the password and the signing key from the environment; the options win', async (t) => {
  const env = { SERVER_PUSH_PASSWORD: 'from-env', SERVER_PUSH_SIGNING_KEY: 'e'.repeat(40) }
  t.match(config(['--dir', 'x', '--user', 'u'], env), { user: { username: 'u', password: 'from-env' }, signingKey: 'e'.repeat(40) })
  t.match(config(['--dir', 'x', '--user', 'u', '--password', 'p', '--signing-key', 'o'.repeat(32)], env), { user: { password: 'p' }, signingKey: 'o'.repeat(32) })
  t.match(config(['--dir', 'x'], { SERVER_PUSH_PASSWORD: '', SERVER_PUSH_SIGNING_KEY: '' }), { user: undefined, signingKey: undefined }, 'an empty variable is none')
  t.equal(mistake(['--dir', 'x'], { SERVER_PUSH_PASSWORD: 'alone' }), 'SERVER_PUSH_PASSWORD is set but no user is: give --user, or unset it', 'a password with no user would leave the server open')
})

t.test('several cameras from a config file, under the options', async (t) => {
  const file = configFile({
    port: 9000,
    host: '0.0.0.0',
    maxFps: 10,
    maxClients: 4,
    intervalMs: 3000,
    chunked: true,
    logLevel: 'warn',
    user: 'admin',
    password: 'secret',
    cameras: [
      { name: 'door', relay: 'http://cam/v', maxFps: 5 },
      { name: 'yard', ingest: 'anonymous', maxClients: 1 },
      { name: 'desk_2', dir: './frames', intervalMs: 500 },
      { name: 'hall', command: 'ffmpeg', redis: 'redis://h', channel: 'hall', publish: true }
    ]
  })
  const given = config(['--config', file, '--port', '9100', '--log-level', 'error'])
  t.match(given, { port: 9100, host: '0.0.0.0', chunked: true, logLevel: 'error', user: { username: 'admin', password: 'secret' } })
  t.same(given.cameras.map(({ name, maxFps, maxClients, intervalMs }) => [name, maxFps, maxClients, intervalMs]), [
    ['door', 5, 4, 3000], ['yard', 10, 1, 3000], ['desk_2', 10, 4, 500], ['hall', 10, 4, 3000]
  ])
  t.same(config(['--config', configFile({ cameras: [{ dir: 'x' }] })]).cameras[0]?.name, 'camera', 'one camera needs no name')
  t.same(config(['--config', configFile({ cameras: [{ dir: 'x' }], user: 'u' })], { SERVER_PUSH_PASSWORD: 'p' }).user, { username: 'u', password: 'p' })
})

t.test('every mistake is one line naming where it is', async (t) => {
  const { certPath, keyPath } = certificate()
  const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
    [['--bogus'], /^Unknown option '--bogus'$/],
    [['stray'], /^Unexpected argument 'stray'/],
    [['--port'], /^Option '--port <value>' argument missing$/],
    [['--dir', 'x', '--port', 'abc'], /^--port needs a number, got "abc"$/],
    [['--dir', 'x', '--port', '70000'], /^--port must be a whole number from 0 to 65535, got 70000$/],
    [['--dir', 'x', '--max-clients', '0'], /^--max-clients must be a whole number from 1 up, got 0$/],
    [['--dir', 'x', '--max-fps', '0'], /^--max-fps must be a number over 0, got 0$/],
    [['--dir', 'x', '--interval-ms', '1.5'], /^--interval-ms must be a whole number from 1 to 2147483647, got 1.5$/],
    [['--dir', 'x', '--interval-ms', '3000000000'], /^--interval-ms must be a whole number from 1 to 2147483647, got 3000000000$/],
    [['--dir', 'x', '--port', '80', '--port', '81'], /^--port is given twice$/],
    [['--dir', 'x', '--dir', 'y'], /^--dir is given twice$/],
    [['--dir', 'x', '--max-fps', '.'], /^--max-fps needs a number, got "\."$/],
    [['--config', configFile({ password: 123456789, user: 'u', cameras: [{ dir: 'x' }] })], /\.json: password needs a non-empty text$/],
    [['--config', configFile({ signingKey: ['secret-secret-secret-secret-secret'], cameras: [{ dir: 'x' }] })], /\.json: signingKey needs a non-empty text$/],
    [['--config', '--x'], /^Option '--config' argument is ambiguous\. Did you forget to specify the option argument for '--config'\?$/],
    [['--dir', ''], /^--dir needs a non-empty text, got ""$/],
    [['--dir', 'x', '--log-level', 'loud'], /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/],
    [[], /^nothing to serve: give a source/],
    [['--port', '1'], /^nothing to serve/],
    [['--dir', 'x', '--relay', 'http://a'], /^the command line has 2 sources \(--dir, --relay\); give one$/],
    [['--dir', 'x', '--redis', 'redis://h', '--channel', 'c'], /^the command line has 2 sources \(--dir, --redis\); give one, and --publish to publish it to Redis$/],
    [['--name', 'x'], /^the command line needs a source: --dir, --command, --device, --relay, --redis, --ingest$/],
    [['--redis', 'redis://h'], /^--redis needs --channel$/],
    [['--channel', 'c', '--dir', 'x'], /^--channel needs --redis$/],
    [['--dir', 'x', '--publish'], /^--publish needs --redis and --channel$/],
    [['--redis', 'http://h', '--channel', 'c'], /^--redis must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/h"$/],
    [['--relay', 'not a url'], /^--relay must be a URL, got "not a url"$/],
    [['--relay', 'ftp://h/v'], /^--relay must be an http: or https: URL/],
    [['--dir', 'x', '--name', 'Door'], /^--name must be lower-case letters, digits, - and _ \(not stream, snapshot, state, metrics, signed-url\), got "Door"$/],
    [['--dir', 'x', '--name', 'state'], /^--name must be lower-case/],
    [['--ingest'], /^the ingest of camera "camera" needs --user and --password \(publishers authenticate\), or --allow-anonymous-ingest/],
    [['--dir', 'x', '--allow-anonymous-ingest'], /^--allow-anonymous-ingest goes with --ingest$/],
    [['--dir', 'x', '--user', 'u'], /^--user needs --password \(or SERVER_PUSH_PASSWORD\)$/],
    [['--dir', 'x', '--password', 'p'], /^--password needs --user$/],
    [['--dir', 'x', '--user', 'a:b', '--password', 'p'], /^--user must not hold ":", got "a:b"$/],
    [['--dir', 'x', '--signing-key', 'short'], /^the signing key must be 32 bytes or more/],
    [['--dir', 'x', '--tls-cert', certPath], /^--tls-cert needs --tls-key$/],
    [['--dir', 'x', '--tls-key', keyPath], /^--tls-key needs --tls-cert$/],
    [['--dir', 'x', '--tls-cert', join(dir, 'none.pem'), '--tls-key', keyPath], /^cannot read --tls-cert .*none\.pem: ENOENT/],
    [['--dir', 'x', '--tls-cert', keyPath, '--tls-key', keyPath], /^--tls-cert and --tls-key are not a PEM certificate and its key: /],
    [['--config', join(dir, 'none.json')], /^cannot read the config file .*none\.json: ENOENT/],
    [['--config', configFile('{ "port": ')], /^the config file .* is not JSON: /],
    [['--config', configFile([])], /^the config file .* must hold a JSON object$/],
    [['--config', configFile({ prot: 1 })], /: prot is not an option \(port, host, /],
    [['--config', configFile('{ "port": 1e400, "cameras": [{ "dir": "x" }] }')], /\.json: port must be a whole number from 0 to 65535, got Infinity$/],
    [['--config', configFile({ port: '80', cameras: [{ dir: 'x' }] })], /\.json: port must be a whole number from 0 to 65535, got "80"$/],
    [['--config', configFile({ chunked: 'yes', cameras: [{ dir: 'x' }] })], /\.json: chunked must be true or false, got "yes"$/],
    [['--config', configFile({ logLevel: 'loud', cameras: [{ dir: 'x' }] })], /\.json: logLevel must be one of/],
    [['--config', configFile({ user: 'u', cameras: [{ dir: 'x' }] })], /\.json: user needs --password \(or SERVER_PUSH_PASSWORD\)$/],
    [['--config', configFile({ tlsCert: certPath, cameras: [{ dir: 'x' }] })], /\.json: tlsCert needs --tls-key$/],
    [['--config', configFile({})], /^nothing to serve/],
    [['--config', configFile({ cameras: [] })], /\.json: cameras must be a list of one camera or more$/],
    [['--config', configFile({ cameras: {} })], /\.json: cameras must be a list/],
    [['--config', configFile({ cameras: ['door'] })], /\.json: cameras\[0\] must be an object with a name and a source$/],
    [['--config', configFile({ cameras: [{ dir: 'x' }, { name: 'b', dir: 'y' }] })], /\.json: cameras\[0\]\.name is missing: each camera of several needs one$/],
    [['--config', configFile({ cameras: [{ name: 'a', dir: 'x' }, { name: 'a', dir: 'y' }] })], /\.json: two cameras are named "a"$/],
    [['--config', configFile({ cameras: [{ name: 'a', dir: 'x', fps: 3 }] })], /\.json: cameras\[0\]\.fps is not an option/],
    [['--config', configFile({ cameras: [{ name: 'a', dir: 'x', relay: 'http://h' }] })], /\.json: cameras\[0\] has 2 sources \(dir, relay\); give one$/],
    [['--config', configFile({ cameras: [{ name: 'a' }] })], /\.json: cameras\[0\] needs a source: dir, command, device, relay, redis, ingest$/],
    [['--config', configFile({ cameras: [{ name: 'a', dir: 'x', redis: 'redis://h', channel: 'c' }] })], /\.json: cameras\[0\] has 2 sources \(dir, redis\); give one, and publish to publish it to Redis$/],
    [['--config', configFile({ cameras: [{ name: 'a', ingest: 'yes' }] })], /\.json: cameras\[0\]\.ingest must be true or "anonymous", got "yes"$/],
    [['--config', configFile({ cameras: [{ name: 'a', ingest: true }] })], /^the ingest of camera "a" needs --user and --password/],
    [['--config', configFile({ cameras: [{ name: 'a', dir: 'x', maxFps: -1 }] })], /\.json: cameras\[0\]\.maxFps must be a number over 0, got -1$/],
    [['--config', configFile({ cameras: [{ dir: 'x' }] }), '--dir', 'y'], /\.json: cameras and a source on the command line: give the cameras in one place$/]
  ]
  for (const [args, expected, env] of cases) t.match(mistake(args, env), expected, args.join(' '))
})

t.test('mjpg-streamer\'s ?action= as the path ustreamer serves it at, the rest of the query kept', async (t) => {
  const cases: Array<[string, string]> = [
    ['/?action=stream', '/stream'],
    ['/?action=snapshot', '/snapshot'],
    ['/door/?action=stream', '/door/stream'],
    ['/door?action=snapshot&fps=5', '/door/snapshot?fps=5'],
    ['/?fps=2&action=stream&expires=9&signature=x', '/stream?fps=2&expires=9&signature=x'],
    ['/?action=other', '/?action=other'],
    ['/stream?action=snapshot', '/stream?action=snapshot'],
    ['/state/?action=stream', '/state/?action=stream'],
    ['/a/b/?action=stream', '/a/b/?action=stream'],
    ['/stream', '/stream'],
    ['/?actions=stream', '/?actions=stream']
  ]
  for (const [url, served] of cases) t.equal(actionUrl(url), served, url)
  t.same(cameraPaths('door', 1), { base: '', stream: '/stream', snapshot: '/snapshot', state: '/state' })
  t.same(cameraPaths('door', 2), { base: '/door', stream: '/door/stream', snapshot: '/door/snapshot', state: '/door/state' })
})
