// Every option a user can get wrong fails register (or ready, for files read then) with a coded error naming
// the route and the field.
import { execFileSync } from 'node:child_process'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import serverPush, { createLiveSource, fromCommand, fromDirectory, fromFiles, liveFrom, relay, type CommandOptions, type LiveFromOptions, type LiveSourceOptions, type RelayOptions, type ServerPushOptions } from '../lib/index.js'
import { createPushHandler } from '../lib/node.js'
import { tempDir } from './helpers/app.js'

const source = (): string => 'x'

async function registerFails (t: Test, options: unknown, code: string, message: RegExp): Promise<void> {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => {
    await app.register(serverPush, options as ServerPushOptions)
    await app.ready()
  }, { code, message }, message.source)
}

t.test('bad plugin options', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  await registerFails(t, 'x', code, /options: must be an object/)
  await registerFails(t, { routes: 'x' }, code, /options: routes must be an array of routes/)
  await registerFails(t, { producerStopTimeoutMs: -1 }, code, /options: producerStopTimeoutMs must be a finite number >= 0, got -1/)
  await registerFails(t, { routes: [{ path: '/a', source }], interval: 5 }, code, /options: unknown option "interval"/)
  await registerFails(t, { routes: [{ path: '/a', source }], prefix: 'cam' }, code, /options: prefix must be a path starting with "\/"/)
  await registerFails(t, { routes: [{ path: '/a', source }], prefix: 3 }, code, /options: prefix must be a path/)
  await registerFails(t, { routes: [{ path: '/a', source }], intervalMs: -1 }, code, /options: intervalMs must be a finite number >= 0, got -1/)
  await registerFails(t, { routes: [{ path: '/a', source }], boundary: 'a b' }, code, /options: boundary may hold only/)
})

t.test('bad route options name the route and the field', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const route = (extra: Record<string, unknown>): unknown => ({ routes: [{ path: '/ok', source }, { path: '/cam', source, ...extra }] })
  await registerFails(t, { routes: [null] }, code, /routes\[0\]: must be an object with path and source/)
  await registerFails(t, { routes: [{ source }] }, code, /routes\[0\]: path must be a string starting with "\/", got undefined/)
  await registerFails(t, { routes: [{ path: 'cam', source }] }, code, /routes\[0\]: path must be a string starting with "\/", got "cam"/)
  await registerFails(t, { routes: [{ path: '/a', source }, { path: '/a', source }] }, code, /routes\[1\] \(\/a\): path \/a is already taken by routes\[0\] \(\/a\)/)
  await registerFails(t, { prefix: '/p/', routes: [{ path: '/a', source }, { path: '/a', source }] }, code, /routes\[1\] \(\/p\/a\): path \/p\/a is already taken/)
  await registerFails(t, route({ source: undefined }), code, /routes\[1\] \(\/cam\): source must be a function, fromFiles\(\), fromDirectory\(\) or a live source \(createLiveSource\(\), liveFrom\(\), fromCommand\(\), relay\(\), redisSource\(\)\), got undefined/)
  await registerFails(t, route({ source: null }), code, /source must be .*got null/)
  await registerFails(t, route({ source: 'frames/' }), code, /source must be .*got string/)
  await registerFails(t, route({ source: [Buffer.from('x')] }), code, /source must be .*got object/)
  await registerFails(t, route({ intervall: 5 }), code, /routes\[1\] \(\/cam\): unknown option "intervall"/)
  for (const bad of [-1, Number.NaN, Infinity, '100', null]) {
    await registerFails(t, route({ intervalMs: bad }), code, /routes\[1\] \(\/cam\): intervalMs must be a finite number >= 0/)
  }
  for (const bad of ['jpeg', 'image/jpeg\r\nX-Evil: 1', '', 5, 'image / jpeg']) {
    await registerFails(t, route({ contentType: bad }), code, /routes\[1\] \(\/cam\): contentType must be a media type/)
  }
  for (const bad of [-1, 5, 99.9, Number.NaN, '1000', null]) {
    await registerFails(t, route({ idleRepeatMs: bad }), code, /routes\[1\] \(\/cam\): idleRepeatMs must be 0 \(off\) or a finite number >= 100, got /)
  }
  for (const bad of ['browser', 'Standard', '', null, true]) {
    await registerFails(t, route({ framing: bad }), code, /routes\[1\] \(\/cam\): framing must be "auto", "standard" or "advance", got /)
  }
  await registerFails(t, { framing: 'fast', routes: [{ path: '/a', source }] }, code, /options: framing must be "auto", "standard" or "advance", got "fast"/)
  await registerFails(t, route({ boundary: '' }), code, /routes\[1\] \(\/cam\): boundary must be 1 to 70 characters/)
  await registerFails(t, route({ boundary: 'b'.repeat(71) }), code, /boundary must be 1 to 70 characters long \(got 71\)/)
  await registerFails(t, route({ boundary: '--myboundary' }), code, /boundary must be given without the leading "--"/)
  await registerFails(t, route({ jpegHuffmanTables: 'yes' as unknown as boolean }), code, /routes\[1\] \(\/cam\): jpegHuffmanTables must be true or false, got "yes"/)
  await registerFails(t, route({ boundary: '"myboundary"' }), code, /boundary may hold only letters/)
  await registerFails(t, route({ boundary: 'trailing ' }), code, /boundary may hold only letters/)
  await registerFails(t, route({ boundary: 7 }), code, /boundary must be a string, got 7/)
  await registerFails(t, route({ headers: 'X-A: 1' }), code, /routes\[1\] \(\/cam\): headers must be an object/)
  await registerFails(t, route({ headers: { 'X-A': 'a\r\nX-Injected: 1' } }), code, /routes\[1\] \(\/cam\): header X-A has an invalid value/)
  await registerFails(t, route({ headers: { 'X-A': 'a\nb' } }), code, /header X-A has an invalid value/)
  await registerFails(t, route({ headers: { 'X\r\nA': 'a' } }), code, /header name "X\\r\\nA" is not a valid HTTP token/)
  for (const reserved of ['Content-Type', 'content-length', 'Transfer-Encoding', 'Connection']) {
    await registerFails(t, route({ headers: { [reserved]: 'x' } }), code, new RegExp(`header ${reserved} is set by the plugin`))
  }
})

t.test('file sources that are missing, empty or unreadable fail register', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_SOURCE'
  const dir = tempDir('options')
  writeFileSync(join(dir, 'empty.jpg'), '')
  writeFileSync(join(dir, 'notes.md'), 'not a frame')
  const emptyDir = tempDir('empty')
  const routes = (s: unknown): unknown => ({ routes: [{ path: '/cam', source: s }] })
  await registerFails(t, routes(fromFiles([join(dir, 'missing.jpg')])), code, /\/cam: fromFiles\(.*\): cannot read .*missing\.jpg: ENOENT/)
  await registerFails(t, routes(fromFiles([join(dir, 'empty.jpg')])), code, /empty\.jpg is empty/)
  await registerFails(t, routes(fromFiles([dir])), code, /\/cam: fromFiles\(.*\): .* is not a regular file/)
  await registerFails(t, routes(fromFiles([])), code, /fromFiles\(\) needs a non-empty array of file paths/)
  await registerFails(t, routes(fromFiles('a.jpg' as unknown as string[])), code, /fromFiles\(\) needs a non-empty array/)
  await registerFails(t, routes(fromFiles([''])), code, /fromFiles\(\) needs a non-empty array/)
  await registerFails(t, routes(fromDirectory(join(dir, 'nope'))), code, /\/cam: fromDirectory\(.*\): cannot read directory .*nope: ENOENT/)
  await registerFails(t, routes(fromDirectory(emptyDir)), code, /no image, HTML or text files in/)
  await registerFails(t, routes(fromDirectory(dir)), code, /empty\.jpg is empty/)
  await registerFails(t, routes(fromDirectory('')), code, /fromDirectory\(\) needs a directory path/)
  // A FIFO is refused at once: opening it for reading would wait for a writer, and hold register (and the
  // process) until one came.
  execFileSync('mkfifo', [join(emptyDir, 'pipe.jpg')])
  await registerFails(t, routes(fromFiles([join(emptyDir, 'pipe.jpg')])), code, /pipe\.jpg is not a regular file/)
  const linked = tempDir('linked')
  symlinkSync(join(dir, 'notes.md'), join(linked, 'out.txt'))
  await registerFails(t, routes(fromDirectory(linked)), code, /out\.txt links outside the directory; fromDirectory\(dir, \{ followLinksOutside: true \}\) allows it/)
  writeFileSync(join(dir, 'frame.txt'), 'a\r\n--myboundary\r\nb')
  await registerFails(t, { routes: [{ path: '/cam', boundary: 'myboundary', source: fromFiles([join(dir, 'frame.txt')]) }] },
    code, /body contains the boundary delimiter --myboundary/)
})

t.test('options that are not an object', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(serverPush, () => null as unknown as ServerPushOptions) },
    { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /options: must be an object/ })
})

t.test('bad live-source, limit and status options', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const live = createLiveSource()
  const route = (extra: Record<string, unknown>): unknown => ({ routes: [{ path: '/cam', source: live, ...extra }] })
  for (const bad of [0, -1, 1.5, Infinity, '2']) {
    await registerFails(t, route({ maxClients: bad }), code, /routes\[0\] \(\/cam\): maxClients must be a whole number >= 1/)
  }
  for (const bad of [0, -5, Number.NaN]) {
    await registerFails(t, route({ maxFps: bad }), code, /routes\[0\] \(\/cam\): maxFps must be a finite number > 0/)
  }
  await registerFails(t, route({ stallTimeoutMs: -1 }), code, /stallTimeoutMs must be a finite number >= 0 \(0 = never\), got -1/)
  await registerFails(t, { maxFps: 0, routes: [{ path: '/cam', source }] }, code, /options: maxFps must be a finite number > 0/)
  await registerFails(t, { routes: [{ path: '/cam', source, snapshot: '/cam.jpg' }] }, code,
    /routes\[0\] \(\/cam\): snapshot needs a live source \(createLiveSource\(\), liveFrom\(\), fromCommand\(\), relay\(\), redisSource\(\)\)/)
  await registerFails(t, route({ snapshot: 'cam.jpg' }), code, /snapshot must be a string starting with "\/", got "cam.jpg"/)
  await registerFails(t, route({ snapshot: '/cam' }), code, /routes\[0\] \(\/cam\)\.snapshot: path \/cam is already taken by routes\[0\] \(\/cam\)/)
  await registerFails(t, route({ snapshot: '/cam.jpg', snapshotTimeoutMs: -1 }), code, /snapshotTimeoutMs must be a finite number >= 0/)
  await registerFails(t, route({ snapshotTimeoutMs: 100 }), code, /snapshotTimeoutMs is set but snapshot is not/)
  await registerFails(t, { statusPath: 'status', routes: [{ path: '/cam', source }] }, code, /options: statusPath must be a string starting with "\/"/)
  await registerFails(t, { statusPath: '/cam', routes: [{ path: '/cam', source }] }, code, /path \/cam is already taken by options\.statusPath/)
})

t.test('liveFrom() checks its own arguments', async (t) => {
  t.throws(() => liveFrom('camera' as unknown as () => AsyncIterable<string>), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /liveFrom\(\): needs a function/ })
  for (const bad of [-1, Infinity, '5']) {
    t.throws(() => liveFrom(async function * () {}, { lingerMs: bad as number }), { message: /lingerMs must be a finite number >= 0/ })
  }
})

t.test('source factories refuse options that are not an object, misspelt keys and a timestamps that is not a boolean', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const camera = async function * (): AsyncGenerator<string> {}
  // Each factory with options of the caller's making: typed loosely, as a JavaScript caller's would be.
  const factories: Array<[string, (options: unknown) => unknown]> = [
    ['createLiveSource()', (options) => createLiveSource(options as LiveSourceOptions)],
    ['liveFrom()', (options) => liveFrom(camera, options as LiveFromOptions)],
    ['fromCommand()', (options) => fromCommand('ffmpeg', [], options as CommandOptions)],
    ['relay()', (options) => relay('http://127.0.0.1/', options as RelayOptions)]
  ]
  for (const [where, make] of factories) {
    const named = where.replace(/[()]/g, '\\$&')
    t.throws(() => make(null), { code, message: new RegExp(`${named}: options must be an object, got null`) }, `${where} null`)
    t.throws(() => make('fast'), { code, message: new RegExp(`${named}: options must be an object, got string`) }, `${where} a string`)
    t.throws(() => make({ maxfps: 5 }), { code, message: new RegExp(`${named}: unknown option "maxfps"`) }, `${where} a misspelt key`)
    t.throws(() => make({ timestamps: 'no' }), { code, message: /timestamps must be true or false, got no/ }, `${where} timestamps`)
  }
  t.throws(() => relay('http://127.0.0.1/', { retryDelay: 5 } as RelayOptions), { code, message: /relay\(\): unknown option "retryDelay"/ })
  t.throws(() => liveFrom(camera, { linger: 5 } as LiveFromOptions), { code, message: /liveFrom\(\): unknown option "linger"/ })
  // Every option a factory documents is taken.
  const relayed = relay('http://127.0.0.1/', { username: 'u', password: 'p', headers: {}, ca: [], connectTimeoutMs: 1, headersTimeoutMs: 1, idleTimeoutMs: 1, retryDelayMs: 1, maxRetryDelayMs: 1, maxPartsPerSecond: 1, types: ['image/jpeg'], maxPartBytes: 1, maxHeaderBytes: 1, lingerMs: 0, timestamps: false, maxFps: 1 })
  const command = fromCommand('ffmpeg', [], { cwd: '/', env: {}, restartDelayMs: 1, maxRestartDelayMs: 1, killTimeoutMs: 0, maxFrameBytes: 1, lingerMs: 0, timestamps: true, maxFps: 1 })
  for (const source of [relayed, command, createLiveSource(undefined)]) {
    t.equal(source.closed, false)
    source.close()
  }
})

t.test('bad viewerFps and maxStreamMs, on the plugin, a route and createPushHandler()', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  const route = (extra: Record<string, unknown>): unknown => ({ routes: [{ path: '/cam', source, ...extra }] })
  for (const bad of ['false', 0, null]) {
    await registerFails(t, route({ viewerFps: bad }), code, new RegExp(`routes\\[0\\] \\(/cam\\): viewerFps must be true or false, got ${JSON.stringify(bad)}`))
  }
  for (const bad of [-1, 1, 99, Number.NaN, Infinity, '1000']) {
    await registerFails(t, route({ maxStreamMs: bad }), code, /routes\[0\] \(\/cam\): maxStreamMs must be 0 \(no limit\) or a finite number >= 100/)
  }
  await registerFails(t, { maxStreamMs: 50, routes: [{ path: '/cam', source }] }, code, /options: maxStreamMs must be 0 \(no limit\) or a finite number >= 100, got 50/)
  t.throws(() => createPushHandler({ source, maxStreamMs: 10 }), { code, message: /createPushHandler\(\): maxStreamMs must be/ })
  t.throws(() => createPushHandler({ source, viewerFps: 'yes' as unknown as boolean }), { code, message: /createPushHandler\(\): viewerFps must be true or false, got "yes"/ })
  for (const good of [{ maxStreamMs: 0 }, { maxStreamMs: 100 }, { viewerFps: false }, { viewerFps: true }]) {
    t.doesNotThrow(() => createPushHandler({ source, ...good }), JSON.stringify(good))
  }
})
