// Child processes for tests that must see the project as a user does (built package, example app, ffmpeg).
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { PATIENCE_MS } from './patience.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * This environment with tap's coverage turned off for the child: a child runs the built package or the example
 * app as a user would, and counts for no line of lib/ (the suite covers lib/ itself).
 */
export function plainEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...extra }
}

export interface Finished { code: number | null, stdout: string, stderr: string }

/** How `run()` runs a command. */
export interface RunOptions {
  /** Killed after this long: a hang detector. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Killed when this aborts, e.g. as its test ends. */
  signal?: AbortSignal
}

/** Runs a command to its end (killed after `timeoutMs`, a hang detector, or when `signal` aborts). */
export function run (command: string, args: string[], { timeoutMs = PATIENCE_MS, env = plainEnv(), signal }: RunOptions = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => { stdout += String(chunk) })
    child.stderr.on('data', (chunk) => { stderr += String(chunk) })
    const timer = setTimeout(() => {
      stderr += `\n(killed: still running after ${timeoutMs} ms)`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts a long-running child and resolves with it once its stdout matches `ready` (killed if it never does). */
export function startChild (command: string, args: string[], ready: RegExp, env = plainEnv()): Promise<{ child: ChildProcess, match: RegExpMatchArray, output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`not ready in time: ${output}`)) }, PATIENCE_MS)
    const onData = (chunk: Buffer): void => {
      output += String(chunk)
      const match = ready.exec(output)
      if (match !== null) {
        clearTimeout(timer)
        resolve({ child, match, output: () => output })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => { output += String(chunk) })
    child.on('error', reject)
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}: ${output}`)) })
  })
}

/** A port of 127.0.0.1 that was free a moment ago, for a program that takes its port as an argument. */
export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Fields 3 on of /proc/PID/stat (state, parent, group...), or undefined once the process is gone. */
export function stat (pid: number): string[] | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name before them may hold spaces and parentheses.
    return line.slice(line.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/**
 * Not running any more: gone, or a zombie. A process a command started is orphaned when the command exits, and
 * reaping it is then up to init (slow on some machines), not to the code under test.
 */
export function dead (pid: number): boolean {
  const state = stat(pid)?.[0]
  return state === undefined || state === 'Z' || state === 'X'
}
