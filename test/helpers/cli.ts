// The command as a user runs it: `node dist/esm/cli.js ARGS` (or the package's bin), its JSON log lines read back,
// the processes it started found in /proc, and the whole tree killed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort, plainEnv, ROOT, run, stat, type Finished } from './child.js'
import { PATIENCE_MS } from './patience.js'
import { parseMultipart, type ParsedMultipart } from './wire-client.js'

/** The built command, as package.json's `bin` names it. */
export const CLI = join(ROOT, 'dist/esm/cli.js')

/** A stand-in for a camera: ffmpeg's test pattern, 10 JPEGs a second on its standard output. */
export const TESTSRC = 'ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=10 -f mjpeg -'

export interface LogLine { level: number, msg: string, [key: string]: unknown }

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

export interface Cli {
  child: ChildProcess
  port: number
  origin: string
  stdout: () => string
  stderr: () => string
  /** Every line of standard output, parsed: each must be a JSON object. */
  logs: () => LogLine[]
  /** Resolves with the first log line `test` accepts, waiting for it (a hang detector, not a bound). */
  waitForLog: (test: (line: LogLine) => boolean, what: string) => Promise<LogLine>
  /** Resolves once the command has exited. */
  exited: Promise<Exit>
  /** Sends `signal` and resolves once the command has exited. */
  stop: (signal?: NodeJS.Signals) => Promise<Exit>
}

/** The command's output lines as parsed JSON; a line that is not a JSON object throws, naming it. */
export function parseLogs (stdout: string): LogLine[] {
  return stdout.split('\n').filter((line) => line !== '').map((line) => {
    const parsed = JSON.parse(line) as unknown
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`not a log line: ${line}`)
    return parsed as LogLine
  })
}

/** Resolves once `test` holds, polled every 20 ms; rejects after PATIENCE_MS, a hang detector. */
export async function until (test: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met in ${PATIENCE_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Every process below `pid` (children, their children...), from the parent field of each /proc/PID/stat. */
export function descendants (pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = stat(Number(entry))
    if (fields === undefined) continue
    const parent = Number(fields[1])
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  const found: number[] = []
  for (let queue = [pid]; queue.length > 0;) {
    const next = children.get(queue.shift() as number) ?? []
    found.push(...next)
    queue.push(...next)
  }
  return found
}

/** The program `pid` runs (`ffmpeg`, `sh`), or undefined once it is gone. */
export function programOf (pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
async function accepting (port: number): Promise<void> {
  await until(() => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  }), `a server on port ${port}`)
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  /** The program to run instead of `node dist/esm/cli.js` (the package's bin as npm installs it). */
  bin?: string
  /**
   * How to know it is serving: by default `--port 0` is added and the port read from Fastify's "Server listening
   * at" line; `'connect'`: a free port is given and connected to, for a command that logs no such line.
   */
  ready?: 'log' | 'connect'
}

/**
 * Starts the command with `args`, and resolves once it serves. When `t` ends the command and every process below it
 * are killed (SIGKILL), whatever the test did.
 */
export async function startCli (t: Test, args: string[], { env = plainEnv(), bin, ready = 'log' }: StartOptions = {}): Promise<Cli> {
  const port = ready === 'connect' ? await freePort() : 0
  const argv = [...args, '--port', String(port)]
  const child = bin === undefined
    ? spawn(process.execPath, [CLI, ...argv], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout?.on('data', (chunk: Buffer) => { stdout += String(chunk); for (const waiter of [...waiters]) waiter() })
  child.stderr?.on('data', (chunk: Buffer) => { stderr += String(chunk) })
  let done = false
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => {
    done = true
    resolve({ code, signal })
    for (const waiter of [...waiters]) waiter()
  }))
  t.teardown(async () => {
    if (done || child.pid === undefined) return
    const tree = descendants(child.pid)
    child.kill('SIGKILL')
    for (const pid of tree) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    await exited
  })
  const logs = (): LogLine[] => parseLogs(stdout.slice(0, stdout.lastIndexOf('\n') + 1))
  const waitForLog = (test: (line: LogLine) => boolean, what: string): Promise<LogLine> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no log line ${what} in ${PATIENCE_MS} ms; stdout: ${stdout}; stderr: ${stderr}`)), PATIENCE_MS)
    const finish = (error?: Error, line?: LogLine): void => {
      clearTimeout(timer)
      waiters.delete(check)
      if (line !== undefined) resolve(line); else reject(error)
    }
    const check = (): void => {
      try {
        const line = logs().find(test)
        if (line !== undefined) return finish(undefined, line)
      } catch (error) {
        return finish(error as Error)
      }
      if (done) finish(new Error(`exited (${child.exitCode ?? child.signalCode}) before a log line ${what}; stdout: ${stdout}; stderr: ${stderr}`))
    }
    waiters.add(check)
    check()
  })
  let origin = `http://127.0.0.1:${port}`
  if (ready === 'log') {
    const listening = await waitForLog((line) => /^Server listening at https?:\/\/127\.0\.0\.1:\d+$/.test(line.msg), '"Server listening at"')
    origin = listening.msg.slice('Server listening at '.length)
  } else {
    await Promise.race([accepting(port), exited.then(() => { throw new Error(`exited before serving: ${stderr}`) })])
  }
  return {
    child,
    port: Number(new URL(origin).port),
    origin,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    waitForLog,
    exited,
    async stop (signal = 'SIGTERM') {
      child.kill(signal)
      return await exited
    }
  }
}

/** Runs the command to its end with `args` (a hang detector kills it after PATIENCE_MS). */
export function runCli (args: string[], env = plainEnv()): Promise<Finished> {
  return run(process.execPath, [CLI, ...args], { env })
}

/** `Authorization: Basic …` for `user` and `password`. */
export function basic (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/**
 * A chunked body read as far as it has come: the bytes of its complete chunks, and whether the last chunk (size 0)
 * has arrived. Strict: a malformed size line or a chunk not followed by CRLF throws.
 */
export function dechunk (body: Buffer): { bytes: Buffer, last: boolean } {
  const pieces: Buffer[] = []
  for (let offset = 0; ;) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd === -1) return { bytes: Buffer.concat(pieces), last: false }
    const line = body.subarray(offset, lineEnd).toString('latin1')
    if (!/^[0-9a-f]+$/i.test(line)) throw new Error(`not a chunk-size line: ${JSON.stringify(line)}`)
    const size = parseInt(line, 16)
    const start = lineEnd + 2
    if (size === 0) return { bytes: Buffer.concat(pieces), last: body.subarray(start, start + 2).toString('latin1') === '\r\n' }
    if (body.length < start + size + 2) return { bytes: Buffer.concat(pieces), last: false }
    if (body.subarray(start + size, start + size + 2).toString('latin1') !== '\r\n') throw new Error(`chunk of ${size} bytes not followed by CRLF`)
    pieces.push(body.subarray(start, start + size))
    offset = start + size + 2
  }
}

/** A chunked response's body (after its head) parsed as multipart with `boundary`. */
export function chunkedMultipart (data: Buffer, boundary: string): ParsedMultipart & { last: boolean } {
  const { bytes, last } = dechunk(data.subarray(data.indexOf('\r\n\r\n') + 4))
  return { ...parseMultipart(bytes, boundary), last }
}

/** Whether `body` is a whole JPEG: SOI at the start, EOI at the end. */
export function isJpeg (body: Buffer): boolean {
  return body.subarray(0, 2).toString('hex') === 'ffd8' && body.subarray(-2).toString('hex') === 'ffd9'
}
