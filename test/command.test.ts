// fromCommand: a real process writing JPEGs to its stdout (ffmpeg, and a small node script), started for the
// first viewer, started again when it dies, and gone, reaped, once the last viewer leaves or the app closes.
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { fromCommand } from '../lib/index.js'
import { killCommandGroups } from '../lib/core/sources/command.js'
import { eventually, startApp, tempDir } from './helpers/app.js'
import { dead, run, stat } from './helpers/child.js'
import { RawClient } from './helpers/wire-client.js'

const thumb = new URL('../example-app/frames/thumb_1.jpg', import.meta.url).pathname

// Writes the JPEG named by its first argument every 50 ms, says so on stderr; its second argument is a tag for pgrep.
const WRITER = `
const jpeg = require('node:fs').readFileSync(process.argv[1])
process.stderr.write('writer ready\\n')
setInterval(() => process.stdout.write(jpeg), 50)
`
// The writer, deaf to SIGTERM (the handler is set before the first frame) and to the pipe it writes to closing.
const STUBBORN = `process.on('SIGTERM', () => {}); process.stdout.on('error', () => {}); ${WRITER}`

/** A tag no other process has: the test finds its process by it. */
function tag (): string {
  return `push-test-${randomBytes(6).toString('hex')}`
}

/** Pids of live processes whose command line holds `marker` (a zombie has no command line left). */
function pids (marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').map(Number).filter((pid) => pid !== process.pid)
  } catch {
    return []
  }
}

/** Gone for good: no /proc entry, so not a zombie either. */
function gone (pid: number): boolean {
  return !existsSync(`/proc/${pid}`)
}

/** The process group `pid` is in. */
function processGroup (pid: number): number {
  return Number(stat(pid)?.[2])
}

interface Sent { signal: string | number, at: number, watchedAlive: boolean }

/**
 * The signals this process sends to process group `group` until `t` ends (the plugin stops a command with
 * process.kill on its group), each with when it went and whether `watched` was still there then: the order of
 * SIGTERM, SIGKILL and a process's end is known from the events themselves, not from a sleep between them.
 * (Other groups are left out: an earlier test's group may still get its SIGKILL meanwhile.)
 */
function sentSignals (t: Test, group: number, watched: number): Sent[] {
  const sent: Sent[] = []
  const kill = process.kill
  process.kill = (target, signal = 'SIGTERM') => {
    // Signal 0 only asks whether the group is still there.
    if (target === -group && signal !== 0) sent.push({ signal, at: performance.now(), watchedAlive: !gone(watched) })
    return kill.call(process, target, signal)
  }
  t.teardown(() => { process.kill = kill })
  return sent
}

/** What stopping a process deaf to SIGTERM looks like: SIGTERM, then SIGKILL, each finding it still there. */
const TERM_THEN_KILL = [{ signal: 'SIGTERM', watchedAlive: true }, { signal: 'SIGKILL', watchedAlive: true }]
const signalsSeen = (sent: Sent[]): Array<Omit<Sent, 'at'>> => sent.map(({ signal, watchedAlive }) => ({ signal, watchedAlive }))

t.test('ffmpeg through a command source: JPEG frames that decode, one process for every viewer', async (t) => {
  const marker = tag()
  const { port } = await startApp(t, {
    routes: [{
      path: '/cam',
      source: fromCommand('ffmpeg', ['-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15',
        '-metadata', `comment=${marker}`, '-f', 'mjpeg', '-q:v', '5', '-'])
    }]
  })
  const viewers = await Promise.all([RawClient.get(port, '/cam'), RawClient.get(port, '/cam')])
  const parts = (await Promise.all(viewers.map((viewer) => viewer.parts(3)))).map((response) => response.multipart.parts)
  t.equal(pids(marker).length, 1, 'one ffmpeg for two viewers')
  const dir = tempDir('command')
  for (const [i, part] of (parts[0] ?? []).slice(0, 3).entries()) {
    t.equal(part.headers['content-type'], 'image/jpeg')
    writeFileSync(join(dir, `${i}.jpg`), part.body)
    const decoded = await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', join(dir, `${i}.jpg`), join(dir, `${i}.png`)])
    t.equal(decoded.code, 0, `frame ${i} decodes: ${decoded.stderr}`)
  }
  for (const viewer of viewers) viewer.destroy()
  await eventually(() => pids(marker).length === 0)
})

t.test('the process is killed and reaped when the last viewer leaves, and started again for the next', async (t) => {
  const marker = tag()
  const { port, logged } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', WRITER, thumb, marker]) }] })
  const first = await RawClient.get(port, '/cam')
  const part = (await first.parts(1)).multipart.parts[0]
  t.ok(part?.body.equals(readFileSync(thumb)), 'the frame is the JPEG the process wrote')
  const [pid] = pids(marker)
  t.ok(pid !== undefined)
  await eventually(() => logged('server push command stderr').some((line) => line.line === 'writer ready'))
  first.destroy()
  await eventually(() => gone(pid as number))
  const second = await RawClient.get(port, '/cam')
  await second.parts(1)
  const [next] = pids(marker)
  t.ok(next !== undefined && next !== pid, 'a new process')
  // A new process starts only once the old one's producer has finished stopping, exit log or not.
  t.same(logged('server push command exited'), [], 'a stop is not logged as an exit')
  second.destroy()
  await eventually(() => gone(next as number))
})

t.test('a process that dies while viewers remain is started again, and the viewer keeps its stream', async (t) => {
  const marker = tag()
  const { port, logged } = await startApp(t, {
    routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', WRITER, thumb, marker], { restartDelayMs: 50 }) }]
  })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  const [pid] = pids(marker)
  process.kill(pid as number, 'SIGKILL')
  await eventually(() => { const [next] = pids(marker); return next !== undefined && next !== pid })
  const before = viewer.response()?.multipart.parts.length ?? 0
  await viewer.parts(before + 2)
  t.equal(viewer.ended, false)
  const [exit] = logged('server push command exited')
  t.equal(exit?.signal, 'SIGKILL')
  t.equal(exit?.restartInMs, 50)
  viewer.destroy()
})

t.test('app.close() resolves once the process is gone, even one that ignores SIGTERM', async (t) => {
  const marker = tag()
  // lingerMs: the viewer leaving does not stop the process, app.close() does.
  const { app, port } = await startApp(t, {
    routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', STUBBORN, thumb, marker], { lingerMs: 60_000, killTimeoutMs: 300 }) }]
  })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  const [pid] = pids(marker) as [number]
  const sent = sentSignals(t, pid, pid)
  viewer.destroy()
  await app.close()
  t.same(sent.map(({ signal }) => signal), ['SIGTERM', 'SIGKILL'], 'close() waited for the kill')
  t.ok(gone(pid), 'and the process is gone when it resolves')
})

t.test('killCommandGroups(): every command\'s group killed now, one deaf to SIGTERM too, while its viewer is still there', async (t) => {
  const marker = tag()
  const { port } = await startApp(t, {
    routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', STUBBORN, thumb, marker], { killTimeoutMs: 60_000 }) }]
  })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  const [pid] = pids(marker) as [number]
  killCommandGroups()
  // Nothing else would end it: its viewer stays, and SIGKILL would come only after a minute.
  await eventually(() => dead(pid), 'the process killed')
  t.pass('killed at once')
  viewer.destroy()
})

t.test('a command that starts others: its whole process group is stopped, and the next viewer gets a new one', async (t) => {
  const marker = tag()
  // A wrapper that leaves the frames to a process of its own, which inherits its stdout.
  const wrapper = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(WRITER)}, process.argv[1], process.argv[2] + '-inner'], { stdio: 'inherit' }); setInterval(() => {}, 1000)`
  const { port } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', wrapper, thumb, marker]) }] })
  const first = await RawClient.get(port, '/cam')
  await first.parts(1)
  const running = pids(marker)
  t.equal(running.length, 2, 'the wrapper and the process it started')
  const [inner] = pids(`${marker}-inner`) as [number]
  first.destroy()
  await eventually(() => running.every((pid) => pid === inner ? dead(pid) : gone(pid)))
  const second = await RawClient.get(port, '/cam')
  await second.parts(1)
  t.equal(pids(marker).length, 2)
  second.destroy()
  await eventually(() => pids(marker).length === 0)
})

t.test('a process that ignores SIGTERM gets SIGKILL after killTimeoutMs', async (t) => {
  const marker = tag()
  const killTimeoutMs = 200
  const { port } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', STUBBORN, thumb, marker], { killTimeoutMs }) }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  const [pid] = pids(marker) as [number]
  const sent = sentSignals(t, pid, pid)
  viewer.destroy()
  await eventually(() => gone(pid))
  t.same(signalsSeen(sent), TERM_THEN_KILL, 'SIGTERM to its group, then SIGKILL, which finds it still there')
  const [term, kill] = sent as [Sent, Sent]
  // A lower bound set by the plugin's own timer; Node's timers count whole milliseconds.
  t.ok(kill.at - term.at >= killTimeoutMs - 1, `SIGKILL ${Math.round(kill.at - term.at)} ms after SIGTERM, killTimeoutMs ${killTimeoutMs}`)
})

t.test('what the command started and that ignores SIGTERM gets SIGKILL too, though the command itself obeyed', async (t) => {
  const marker = tag()
  // A wrapper that starts the writer and waits: the writer is in its process group, and writes to the
  // command's stdout.
  const wrapper = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(STUBBORN)}, process.argv[1], process.argv[2] + '-inner'], { stdio: 'inherit' }); setInterval(() => {}, 60_000)`
  const { port } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', wrapper, thumb, marker], { killTimeoutMs: 300 }) }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  const inner = pids(`${marker}-inner`)
  t.equal(inner.length, 1)
  const [writer] = inner as [number]
  // The command leads the group, so the group's id is the command's pid.
  const command = processGroup(writer)
  const sent = sentSignals(t, command, writer)
  viewer.destroy()
  await eventually(() => dead(writer))
  t.same(signalsSeen(sent), TERM_THEN_KILL, 'SIGTERM to the group, then SIGKILL, which finds the writer still there')
  t.ok(dead(command), 'the command itself went at SIGTERM')
})

t.test('a command that cannot start is logged and tried again, later and later; the app stays up', async (t) => {
  const { port, logged } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand('no-such-command-here', [], { restartDelayMs: 20, maxRestartDelayMs: 40 }) }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.opened()
  await eventually(() => logged('server push command exited').length >= 3)
  const exits = logged('server push command exited')
  t.match(exits[0], { command: 'no-such-command-here', err: { code: 'ENOENT' }, frames: 0 })
  t.same(exits.slice(0, 3).map((line) => line.restartInMs), [20, 40, 40], 'the wait doubles up to maxRestartDelayMs')
  t.equal(viewer.ended, false)
  viewer.destroy()
})

// Writes eight lines to stderr, one of them long, the cause last, and fails.
const FAILING = `
for (let i = 1; i <= 6; i++) process.stderr.write('line ' + i + '\\n')
process.stderr.write('x'.repeat(1000) + '\\n')
process.stderr.write('Cannot open video device /dev/video0\\n')
process.exitCode = 1
`
// Fails as ffmpeg does on a camera it cannot reach, naming its URL with the credentials in it.
const UNREACHABLE = `
process.stderr.write('Input #0, rtsp, from rtsp://admin:s3cr@t/x@10.0.0.5:554/stream?user=a:b@c:\\n')
process.stderr.write('[tcp @ 0x55] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused\\n')
process.stderr.write('rtsp://admin:s3cret@10.0.0.5/live: Connection refused, also http://cam:p%40ss@host:8080/a and rtsp://token@host/\\n')
process.stderr.write('rtsp://admin:' + 'x'.repeat(400) + '@10.0.0.5/live\\n')
process.exitCode = 1
`
// Writes one frame, a line to stderr, and ends well.
const ONE_FRAME = `
process.stdout.write(require('node:fs').readFileSync(process.argv[1]))
process.stderr.write('done\\n')
`

t.test('a failed run\'s last stderr lines are on its exit\'s warning; a run that ended well has none', async (t) => {
  const { port, logged } = await startApp(t, {
    routes: [
      { path: '/failing', source: fromCommand(process.execPath, ['-e', FAILING], { restartDelayMs: 30_000 }) },
      { path: '/once', source: fromCommand(process.execPath, ['-e', ONE_FRAME, thumb], { restartDelayMs: 30_000 }) }
    ]
  })
  const failing = await RawClient.get(port, '/failing')
  await failing.opened()
  await eventually(() => logged('server push command exited').length === 1)
  const [failed] = logged('server push command exited')
  t.match(failed, { level: 40, code: 1, frames: 0 })
  t.same(failed?.stderr, ['line 4', 'line 5', 'line 6', 'x'.repeat(300), 'Cannot open video device /dev/video0'],
    'the last five lines, each cut to 300 characters')
  const once = await RawClient.get(port, '/once')
  await once.parts(1)
  await eventually(() => logged('server push command exited').length === 2)
  const ended = logged('server push command exited')[1]
  t.match(ended, { code: 0, frames: 1 })
  t.notOk(ended !== undefined && 'stderr' in ended, 'no stderr on an exit after frames with code 0')
  failing.destroy()
  once.destroy()
})

// Writes 300 lines to stderr at once, over the 100 a second logged, then the cause, and fails.
const FLOODED = `
process.stderr.write(Array.from({ length: 300 }, (_, i) => 'warning ' + (i + 1) + '\\n').join(''), () => {
  process.stderr.write('Cannot open video device /dev/video0\\n')
  process.exitCode = 1
})
`

t.test('the passwords in URLs of a failed run\'s last stderr lines are shown as ***', async (t) => {
  const { port, logged } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', UNREACHABLE], { restartDelayMs: 30_000 }) }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.opened()
  await eventually(() => logged('server push command exited').length === 1)
  t.same(logged('server push command exited')[0]?.stderr, [
    'Input #0, rtsp, from rtsp://admin:***@t/x@10.0.0.5:554/stream?user=a:b@c:',
    '[tcp @ 0x55] Connection to tcp://10.0.0.5:554?timeout=0 failed: Connection refused',
    'rtsp://admin:***@10.0.0.5/live: Connection refused, also http://cam:***@host:8080/a and rtsp://token@host/',
    'rtsp://admin:***@10.0.0.5/live'
  ])
  t.notOk(JSON.stringify(logged('server push command exited')).includes('s3cr'), 'no password at the default level')
  viewer.destroy()
})

t.test('a failed run\'s last stderr lines are its last ones, even past the lines a second logged', async (t) => {
  const { port, logged } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', FLOODED], { restartDelayMs: 30_000 }) }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.opened()
  await eventually(() => logged('server push command exited').length === 1)
  t.same(logged('server push command exited')[0]?.stderr, ['warning 297', 'warning 298', 'warning 299', 'warning 300', 'Cannot open video device /dev/video0'])
  viewer.destroy()
})

t.test('output that is not JPEG within maxFrameBytes is logged and the process started again', async (t) => {
  const marker = tag()
  const { port, logged } = await startApp(t, {
    routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', WRITER, thumb, marker], { maxFrameBytes: 100, restartDelayMs: 20 }) }]
  })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.opened()
  await eventually(() => logged('server push command output failed').length >= 1 && logged('server push command exited').length >= 1)
  t.match(logged('server push command output failed')[0], { err: { code: 'FST_SERVER_PUSH_BAD_JPEG' } })
  viewer.destroy()
})

t.test('fromCommand() refuses what it cannot run', async (t) => {
  const code = 'FST_SERVER_PUSH_INVALID_OPTION'
  t.throws(() => fromCommand(''), { code, message: /fromCommand\(\): needs a command/ })
  t.throws(() => fromCommand('ffmpeg', 'x' as unknown as string[]), { code, message: /args must be an array of strings/ })
  t.throws(() => fromCommand('ffmpeg', [1 as unknown as string]), { code, message: /args must be an array of strings/ })
  t.throws(() => fromCommand('ffmpeg', [], { restartDelayMs: 0 }), { message: /restartDelayMs must be a finite number >= 1, got 0/ })
  t.throws(() => fromCommand('ffmpeg', [], { restartDelayMs: 500, maxRestartDelayMs: 100 }), { message: /maxRestartDelayMs must be a finite number >= 500/ })
  t.throws(() => fromCommand('ffmpeg', [], { killTimeoutMs: -1 }), { message: /killTimeoutMs must be a finite number >= 0/ })
})
