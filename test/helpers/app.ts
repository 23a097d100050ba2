// A real Fastify instance on 127.0.0.1 with the plugin registered and its log lines kept for assertions.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import tap, { type Test } from 'tap'
import serverPush, { type ServerPushOptions } from '../../lib/index.js'
import { PATIENCE_MS } from './patience.js'

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

export interface TestApp {
  app: FastifyInstance
  port: number
  logs: LogLine[]
  /** Log lines whose message is `msg`. */
  logged: (msg: string) => LogLine[]
}

/**
 * Starts an app on `listen` (default: any free port); `setup` runs before the plugin registers (hooks, other
 * plugins), `after` once it has (hooks that must run after the plugin's). Closed at the end of `t`.
 */
export async function startApp (
  t: Test,
  options: ServerPushOptions,
  { setup, after, fastify, listen = 0 }: {
    setup?: (app: FastifyInstance) => Promise<void> | void
    after?: (app: FastifyInstance) => void
    fastify?: { http2?: true }
    listen?: number
  } = {}
): Promise<TestApp> {
  const logs: LogLine[] = []
  const logger = { level: 'debug', stream: { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } } }
  // The routes behave the same on either server kind; only the HTTP/2 test needs the other one.
  const app = (fastify?.http2 === true ? Fastify({ http2: true, logger }) : Fastify({ logger })) as unknown as FastifyInstance
  t.teardown(() => app.close())
  await setup?.(app)
  await app.register(serverPush, options)
  after?.(app)
  await app.listen({ port: listen, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { app, port: address.port, logs, logged: (msg) => logs.filter((line) => line.msg === msg) }
}

/** Resolves when `test()` holds, polling each turn of the event loop; rejects after `timeoutMs`. */
export async function eventually (test: () => boolean, timeoutMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Resolves when `signal` aborts: lets a test source hold a stream open without producing. */
export function aborted (signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve()))
}

/** Timers and immediates now alive in this process (for leak checks). */
export function timerCount (): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout' || name === 'Immediate').length
}

/** A fresh directory under the system's temp dir, removed when the test file ends. */
export function tempDir (prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `push-${prefix}-`))
  tap.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
