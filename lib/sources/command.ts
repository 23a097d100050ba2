// A live source fed by a program that writes concatenated JPEGs to its stdout (ffmpeg reading a camera, say):
// started for the first viewer, started again with backoff when it exits while viewers remain, and killed,
// and waited for, when the last one has left or the app closes.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { sleep, waitFor } from '../async.js'
import { liveFrom, type LiveFromOptions } from '../live/produced.js'
import type { LiveSource } from '../live/source.js'
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
  /** How long the process has to exit after SIGTERM before it gets SIGKILL, in ms. Default 2000. */
  killTimeoutMs?: number
}

interface Exit { code: number | null, signal: NodeJS.Signals | null, error?: Error }

function exitOf (child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    let error: Error | undefined
    // A program that cannot be started reports an error, then closes.
    child.on('error', (err) => { error = err })
    child.once('close', (code, signal) => resolve(error === undefined ? { code, signal } : { code, signal, error }))
  })
}

/** SIGTERM now, SIGKILL if it has not exited after `timeoutMs`. */
function kill (child: ChildProcess, exited: Promise<Exit>, timeoutMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  exited.then(() => clearTimeout(timer), () => {})
}

function check (name: string, value: unknown, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min)) {
    throw new TypeError(`fromCommand(): ${name} must be a finite number >= ${min}, got ${String(value)}`)
  }
}

/**
 * A live source whose frames are the JPEGs that `command` writes to its stdout, one after the other (for
 * ffmpeg: `-f mjpeg -` or `-f image2pipe -`). Its stderr is logged at debug level. It runs while the route has
 * viewers (plus `lingerMs`); when it exits meanwhile it is started again after `restartDelayMs`.
 */
export function fromCommand (command: string, args: readonly string[] = [], options: CommandOptions = {}): LiveSource {
  if (typeof command !== 'string' || command === '') throw new TypeError('fromCommand() needs a command, such as \'ffmpeg\'')
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) throw new TypeError('fromCommand(): args must be an array of strings')
  const { cwd, env, restartDelayMs = 1000, maxRestartDelayMs = 30_000, killTimeoutMs = 2000, maxFrameBytes, ...live } = options
  check('restartDelayMs', restartDelayMs, 1)
  check('maxRestartDelayMs', maxRestartDelayMs, restartDelayMs)
  check('killTimeoutMs', killTimeoutMs, 0)
  const argv = [...args]
  return liveFrom(async function * ({ signal, log }) {
    let delay = restartDelayMs
    while (!signal.aborted) {
      const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      const exited = exitOf(child)
      const stop = (): void => kill(child, exited, killTimeoutMs)
      // The generator may be waiting for a frame that never comes: the abort, not return(), must end the process.
      signal.addEventListener('abort', stop)
      createInterface({ input: child.stderr as Readable }).on('line', (line) => log.debug({ command, line }, 'server push command stderr'))
      let frames = 0
      try {
        for await (const frame of splitJpegs(child.stdout as Readable, { maxFrameBytes })) {
          frames++
          yield frame
        }
      } catch (err) {
        log.error({ err, command }, 'server push command output failed')
      } finally {
        signal.removeEventListener('abort', stop)
        stop()
        const { code, signal: killedBy, error } = await exited
        if (!signal.aborted) {
          if (frames > 0) delay = restartDelayMs
          log.warn({ command, code, signal: killedBy, err: error, frames, restartInMs: delay }, 'server push command exited')
        }
      }
      await waitFor(signal, sleep(delay))
      delay = Math.min(delay * 2, maxRestartDelayMs)
    }
  }, live)
}
