// Hostile commands: a process that floods its stderr, one whose child escapes its group and holds its stdout.
// Each is bounded, logged and restarted; nothing of it outlives its viewers.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { fromCommand } from '../../lib/index.js'
import { eventually, startApp, tempDir } from '../helpers/app.js'
import { RawClient } from '../helpers/wire-client.js'

const thumb = new URL('../../example-app/frames/thumb_1.jpg', import.meta.url).pathname

t.test('a command flooding its stderr gets a few lines a second logged, and the rest measured, not logged', async (t) => {
  // Each block as soon as the last one is taken: as fast as the pipe goes; lines, blank lines, and a line longer
  // than any read.
  const flood = 'process.stdout.write(require(\'node:fs\').readFileSync(process.argv[1])); const block = \'flood line\\n\\n\'.repeat(1000) + \'x\'.repeat(200000); const more = () => process.stderr.write(block, more); more()'
  const started = performance.now()
  const { port, logged } = await startApp(t, { routes: [{ path: '/cam', source: fromCommand(process.execPath, ['-e', flood, thumb]) }] })
  const viewer = await RawClient.get(port, '/cam')
  await viewer.parts(1)
  const dropped = (): number => logged('server push command stderr: over the line budget, dropped').reduce((sum, line) => sum + (line.characters as number), 0)
  await eventually(() => dropped() >= 1_000_000)
  const seconds = (performance.now() - started) / 1000
  const lines = logged('server push command stderr').length
  // A budget from the time it really took, however slow the machine: 100 a second, the first second included.
  t.ok(lines <= 100 * (Math.ceil(seconds) + 1), `${lines} lines logged in ${seconds.toFixed(1)} s, ${dropped()} characters dropped`)
  t.match(logged('server push command stderr')[0], { line: 'flood line' })
  viewer.destroy()
})

t.test('the command\'s own exit ends its run, even while a process it started holds its stdout open', async (t) => {
  const dir = tempDir('escaped')
  const pidFile = join(dir, 'pids')
  // The shell starts a process that leaves its group (setsid) and keeps the shell's stdout, waits until it has
  // (its pid is written), writes one frame and exits. Only the shell's exit says the run is over: its stdout
  // never closes by itself.
  const script = [
    'lines () { cat "$1" 2>/dev/null | wc -l; }',
    'before=$(lines "$1")',
    'setsid sh -c \'echo $$ >> "$1"; exec sleep 300\' sh "$1" &',
    'while [ "$(lines "$1")" -le "$before" ]; do sleep 0.01; done',
    'cat "$2"',
    'exit 3'
  ].join('\n')
  const { app, port, logged } = await startApp(t, {
    routes: [{ path: '/cam', source: fromCommand('sh', ['-c', script, 'sh', pidFile, thumb], { restartDelayMs: 20, killTimeoutMs: 100 }) }]
  })
  // Once no run can start any more, every process that escaped is killed.
  t.teardown(async () => {
    await app.close()
    for (const pid of readFileSync(pidFile, 'utf8').trim().split('\n').map(Number)) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
  })
  const viewer = await RawClient.get(port, '/cam')
  await eventually(() => logged('server push command exited').length >= 2)
  t.match(logged('server push command exited').slice(0, 2), [{ code: 3, frames: 1 }, { code: 3, frames: 1 }], 'each run logged with its exit code, and started again')
  t.match(logged('server push command output failed').slice(0, 2), [{ err: { message: /stdout was still open 100 ms later/ } }, { err: { message: /stdout was still open 100 ms later/ } }],
    'each run\'s stdout, held by the process that escaped, was cut')
  await viewer.parts(2)
  t.equal(viewer.ended, false)
  viewer.destroy()
})
