// A live source fed by a program that writes concatenated JPEGs to its stdout (ffmpeg reading a camera, say):
// started for the first viewer, started again with backoff when it exits while viewers remain, and killed,
// and waited for, when the last one has left or the app closes.
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import { settlesWithin, sleep, waitFor } from '../async.js'
import { checkFactoryOptions, checkNumber, invalidOption } from '../check.js'
import { events } from '../events.js'
import { LIVE_FROM_KEYS, ownProducer, type LiveFromOptions } from '../live/producer.js'
import { CAMERA_OFFLINE_AFTER_MS, checkOfflineAfterMs, type LiveSource } from '../live/source.js'
import { splitJpegs, type JpegSplitterOptions } from '../read/jpeg.js'

export interface CommandOptions extends LiveFromOptions, JpegSplitterOptions {
  /** The process's working directory. Default: this process's. */
  cwd?: string
  /** The process's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv
  /** How long to wait before starting the process again after it exited, in ms; doubles after each run that
   * produced no frame, up to maxRestartDelayMs. Default 1000. */
  restartDelayMs?: number
  /** Default 30000. */
  maxRestartDelayMs?: number
  /** How long the process has to exit after SIGTERM before it gets SIGKILL, in ms; also how long its stdout may
   * stay open after it exited (held by a process it started) before it is cut. Default 2000. */
  killTimeoutMs?: number
}

interface Exit { code: number | null, signal: NodeJS.Signals | null, error?: Error }

// The longest stderr line logged; the rest of a longer one is left out.
const MAX_LINE = 4096
// At most this many stderr lines are logged a second; the rest is read, measured and dropped.
const LINES_PER_SECOND = 100
// A run that failed (no frame, or a non-zero exit) has its last stderr lines, the cause as a rule (ffmpeg's
// `Cannot open video device`), on its exit's warning: at most this many, each cut to TAIL_LINE characters.
const TAIL_LINES = 5
const TAIL_LINE = 300
// `user:password@` in a URL: ffmpeg prints its input's URL as it was given (rtsp://admin:secret@camera/), and a
// warning is logged at the default level, where logs are kept and shared. The authority ends at the first / ? or
// #, and its last @ ends the credentials, as ffmpeg reads a URL.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#:]*):[^\s/?#]*@/gi

/** `text` with the passwords of the URLs in it as `***`, as relay()'s logs show them. */
export function maskCredentials (text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@')
}

/** A stderr line as the exit's warning shows it: passwords masked, cut to TAIL_LINE. */
function tailLine (line: string): string {
  return maskCredentials(line).slice(0, TAIL_LINE)
}

/** What signals the process group of each command this process runs, until the group is gone. */
const groups = new Set<(signal: NodeJS.Signals | 0) => boolean>()

/**
 * SIGKILL to every command's process group now, for a process about to exit without waiting for them (the
 * command-line program's second signal): a group of its own is not told by the terminal, and would outlive it.
 */
export function killCommandGroups (): void {
  for (const group of groups) group('SIGKILL')
  groups.clear()
}

/** A started process and what ends it. */
interface Run {
  /** Its stdout and stderr piped here, its stdin closed. */
  readonly child: ChildProcessByStdio<null, Readable, Readable>
  /** Settles when the process has exited (or could not start). */
  readonly exited: Promise<Exit>
  /** SIGTERM to its whole process group now, SIGKILL to what is left of it after the kill timeout. */
  stop (): void
}

/**
 * The process's own exit ends its run, not the end of its stdout: what it started is stopped with it, and a
 * stdout still held open after the kill timeout (by a process that left its group) is cut, so that the
 * command is restarted, or close() goes on, all the same.
 */
function endWithProcess ({ child, exited, stop }: Run, killTimeoutMs: number): void {
  const { stdout } = child
  // Time for the last bytes in the pipe to be read, even with killTimeoutMs 0.
  const grace = Math.max(killTimeoutMs, 100)
  exited.then(() => {
    stop()
    if (stdout.closed) return
    const timer = setTimeout(() => {
      stdout.destroy(new Error(`the command exited, and its stdout was still open ${grace} ms later, held by a process it started`))
    }, grace)
    stdout.once('close', () => clearTimeout(timer))
  })
}

/**
 * Starts `command` as the leader of its own process group, so that what it starts in turn (a shell's
 * pipeline, a wrapper's ffmpeg) is stopped with it and cannot hold its pipes open; its exit ends the run.
 */
function start (command: string, args: string[], cwd: string | undefined, env: NodeJS.ProcessEnv | undefined, killTimeoutMs: number): Run {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const exited = new Promise<Exit>((resolve) => {
    // A program that cannot be started reports an error and never exits.
    child.once('error', (error) => resolve({ code: null, signal: null, error }))
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const { pid } = child
  const group = (signal: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-(pid as number), signal)
      return true
    } catch {
      return false // no process left in the group
    }
  }
  if (pid !== undefined) groups.add(group)
  let stopping = false
  const run: Run = {
    child,
    exited,
    stop () {
      if (stopping || pid === undefined) return
      stopping = true
      group('SIGTERM')
      const timer = setTimeout(() => {
        group('SIGKILL')
        groups.delete(group)
      }, killTimeoutMs)
      // The leader gone, the timer stays only for what is left of its group.
      exited.then(() => {
        if (group(0)) return
        clearTimeout(timer)
        groups.delete(group)
      })
    }
  }
  endWithProcess(run, killTimeoutMs)
  return run
}

/** Whether `code` is a line end: stderr lines end with LF, CRLF, or a lone CR (ffmpeg's progress line). */
function isLineEnd (code: number): boolean {
  return code === 10 || code === 13
}

/**
 * The last `count` lines `text` ends (blank ones left out), oldest first, and what follows its last line end: a
 * look from the end, as long as those lines, whatever the length of the text before them.
 */
function lastLines (text: string, count: number): { lines: string[], rest: string } {
  let end = text.length
  while (end > 0 && !isLineEnd(text.charCodeAt(end - 1))) end--
  const rest = text.slice(end)
  const lines: string[] = []
  while (lines.length < count) {
    while (end > 0 && isLineEnd(text.charCodeAt(end - 1))) end--
    if (end === 0) break
    let start = end
    while (start > 0 && !isLineEnd(text.charCodeAt(start - 1))) start--
    lines.unshift(text.slice(start, end))
    end = start
  }
  return { lines, rest }
}

/** What a command's stderr lines go to: `log` within the budget, `tail` every one. */
interface LineSinks {
  log (line: string): void
  tail (line: string): void
  dropped (characters: number): void
}

/**
 * Logs the lines `stream` writes, each cut to MAX_LINE characters, up to LINES_PER_SECOND of them: a command
 * that floods its stderr costs a sum, not a log line each (at debug level, a logger would buffer them all).
 * Once over the budget a chunk is only measured, and its last TAIL_LINES lines looked for from its end, never
 * split. Every line reaches `tail`, over the budget too: a command that floods its stderr before it fails says
 * why last. How many characters were dropped is logged with the first output of the next second, and when the
 * stream ends.
 */
function logLines (stream: Readable, { log, tail, dropped }: LineSinks): void {
  let line = ''
  let secondAt = -Infinity
  let logged = 0
  let over = 0
  const report = (): void => {
    if (over > 0) dropped(over)
    over = 0
  }
  stream.setEncoding('utf8')
  stream.on('data', (text: string) => {
    const now = performance.now()
    if (now - secondAt >= 1000) {
      report()
      secondAt = now
      logged = 0
    }
    if (logged >= LINES_PER_SECOND) {
      over += text.length
      // The next second's first line starts after the last line end dropped.
      const last = lastLines(line + text, TAIL_LINES)
      for (const done of last.lines) tail(done.slice(0, MAX_LINE))
      line = last.rest.slice(0, MAX_LINE)
      return
    }
    const lines = (line + text).split(/\r\n|\r|\n/)
    line = (lines.pop() as string).slice(0, MAX_LINE)
    for (const done of lines) {
      if (done === '') continue
      const cut = done.slice(0, MAX_LINE)
      tail(cut)
      if (logged < LINES_PER_SECOND) {
        logged++
        log(cut)
      } else {
        over += done.length + 1
      }
    }
  })
  stream.once('close', report)
}

const COMMAND_KEYS = {
  ...LIVE_FROM_KEYS,
  cwd: true,
  env: true,
  restartDelayMs: true,
  maxRestartDelayMs: true,
  killTimeoutMs: true,
  maxFrameBytes: true
} satisfies Record<keyof CommandOptions, true>

/**
 * A live source whose frames are the JPEGs that `command` writes to its stdout, one after the other (for
 * ffmpeg: `-f mjpeg -` or `-f image2pipe -`). Its stderr is logged at debug level, and the last lines of a run
 * that failed (no frame, or a non-zero exit) on its exit's warning (`stderr`). It runs while the route has
 * viewers (plus `lingerMs`); when it exits meanwhile it is started again after `restartDelayMs`.
 */
export function fromCommand (command: string, args: readonly string[] = [], options: CommandOptions = {}): LiveSource {
  const where = 'fromCommand()'
  if (typeof command !== 'string' || command === '') throw invalidOption(where, 'needs a command, such as \'ffmpeg\'')
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) throw invalidOption(where, 'args must be an array of strings')
  checkFactoryOptions(where, options, COMMAND_KEYS)
  const { cwd, env, restartDelayMs = 1000, maxRestartDelayMs = 30_000, killTimeoutMs = 2000, maxFrameBytes, offlineAfterMs = CAMERA_OFFLINE_AFTER_MS, ...live } = options
  checkNumber(where, 'restartDelayMs', restartDelayMs, 1)
  checkNumber(where, 'maxRestartDelayMs', maxRestartDelayMs, restartDelayMs)
  checkNumber(where, 'killTimeoutMs', killTimeoutMs, 0)
  checkNumber(where, 'maxFrameBytes', maxFrameBytes, 1)
  checkOfflineAfterMs(where, offlineAfterMs)
  const argv = [...args]
  return ownProducer(async function * ({ signal, log, offline, about }) {
    let delay = restartDelayMs
    while (!signal.aborted) {
      const { child, exited, stop } = start(command, argv, cwd, env, killTimeoutMs)
      // The generator may be waiting for a frame that never comes: the abort, not return(), must end the process.
      signal.addEventListener('abort', stop)
      const { stderr } = child
      const stderrClosed = new Promise((resolve) => stderr.once('close', resolve))
      // Only the last lines are kept for the exit's warning: a failing command says why last, and one that runs for
      // days must not hold its whole stderr.
      const tail: string[] = []
      logLines(stderr, {
        log: (line) => log.debug({ command, line }, 'server push command stderr'),
        tail: (line) => { if (tail.push(line) > TAIL_LINES) tail.shift() },
        dropped: (characters) => log.debug({ command, characters, linesPerSecond: LINES_PER_SECOND }, 'server push command stderr: over the line budget, dropped')
      })
      let frames = 0
      try {
        for await (const frame of splitJpegs(child.stdout, { maxFrameBytes })) {
          frames++
          yield frame
        }
      } catch (err) {
        log.error({ err, command }, 'server push command output failed')
      } finally {
        signal.removeEventListener('abort', stop)
        stop()
        const { code, signal: killedBy, error } = await exited
        const failed = frames === 0 || code !== 0
        // Its last lines may still be in the pipe as it exits: read, unless a process it started holds it open.
        if (failed && !signal.aborted) await settlesWithin(stderrClosed, Math.max(killTimeoutMs, 100))
        // Whatever is left of its group must not keep these open.
        child.stdout.destroy()
        stderr.destroy()
        if (!signal.aborted) {
          if (frames > 0) delay = restartDelayMs
          const stderrTail = failed ? { stderr: tail.map(tailLine) } : {}
          log.warn({ command, code, signal: killedBy, err: error, frames, restartInMs: delay, ...stderrTail }, 'server push command exited')
          if (events.sourceRestart.hasSubscribers) events.sourceRestart.publish({ ...about, delayMs: delay })
          // Offline until the restarted command's first frame.
          offline()
        }
      }
      await waitFor(signal, sleep(delay))
      delay = Math.min(delay * 2, maxRestartDelayMs)
    }
  }, { ...live, offlineAfterMs })
}
