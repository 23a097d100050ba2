// A real server on 127.0.0.1 serving push routes, with its log lines kept for assertions. The server is Fastify
// with the plugin by default; PUSH_SERVER=express or PUSH_SERVER=node serves the same routes with
// fastify-server-push/node's handlers, so that one test file runs against every adapter (see test/servers/).
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import pino from 'pino'
import tap, { type Test } from 'tap'
import serverPush, { type PushRouteOptions, type RouteStats, type ServerPushOptions } from '../../lib/index.js'
import { createPushHandler, createSnapshotHandler } from '../../lib/node.js'
import { PATIENCE_MS } from './patience.js'

export type ServerKind = 'fastify' | 'express' | 'node'

/** The server this test process runs its push routes on. */
export const SERVER: ServerKind = (process.env.PUSH_SERVER as ServerKind | undefined) ?? 'fastify'

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

export interface TestApp {
  /** The Fastify instance; on the other servers, an instance that no test of theirs touches. */
  app: FastifyInstance
  port: number
  server: Server
  logs: LogLine[]
  /** Log lines whose message is `msg`. */
  logged: (msg: string) => LogLine[]
  /** Every push route's counters, by path. */
  stats: () => Record<string, RouteStats>
  /** Closes the server as its users would: streams ended first. */
  close: () => Promise<void>
}

/** What a test may add around the routes, on whatever server. */
export interface AppExtras {
  /** Fastify only: runs before the plugin registers (hooks, other plugins). */
  setup?: (app: FastifyInstance) => Promise<void> | void
  /** Fastify only: runs once the plugin has registered (hooks that must run after the plugin's). */
  after?: (app: FastifyInstance) => void
  /** Fastify only: an HTTP/2 server. */
  fastify?: { http2?: true }
  /** Runs before a push route answers a request, as a preHandler hook or a middleware would. */
  before?: (req: IncomingMessage) => Promise<void> | void
  /** Runs once close() has told the push routes to close, before the server waits for its connections. */
  closing?: () => void
  /** Called with the server's side of each connection. */
  onConnection?: (socket: Socket) => void
  /** HTML pages to serve besides the routes, by path. */
  pages?: Record<string, string>
  listen?: number
}

/** A test only Fastify can run (hooks, plugins, its HTTP/2 server): defined in the Fastify run of a file only. */
export function fastifyOnly (name: string, fn: (t: Test) => Promise<void>): void {
  if (SERVER === 'fastify') tap.test(name, fn)
}

/** The socket of a source function's `request`, whatever the server: Fastify's request or Node's. */
export function socketOf (request: unknown): Socket {
  const raw = (request as { raw?: IncomingMessage }).raw ?? request as IncomingMessage
  return raw.socket
}

/** The query of a source function's `request`, whatever the server. */
export function queryOf (request: unknown): URLSearchParams {
  const raw = (request as { raw?: IncomingMessage }).raw ?? request as IncomingMessage
  return new URL(raw.url ?? '/', 'http://localhost').searchParams
}

function capture (logs: LogLine[]): { level: string, stream: { write: (line: string) => void } } {
  return { level: 'debug', stream: { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } } }
}

/**
 * Starts `options`' routes on `listen` (default: any free port) on this process's SERVER. Closed at the end of
 * `t`.
 */
export async function startApp (t: Test, options: ServerPushOptions, extras: AppExtras = {}): Promise<TestApp> {
  const logs: LogLine[] = []
  const served = SERVER === 'fastify' ? await fastifyServer(options, extras, logs) : await nodeServer(options, extras, logs)
  t.teardown(() => served.close())
  const { server } = served
  // Connections that never carried a request (a browser's spare preconnects) would hold close() up: dropped.
  const unused = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    unused.add(socket)
    socket.once('close', () => unused.delete(socket))
  })
  server.on('request', (request: IncomingMessage) => unused.delete(request.socket))
  const close = served.close
  served.close = async () => {
    for (const socket of unused) socket.destroy()
    await close()
  }
  const address = served.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { ...served, port: address.port, logs, logged: (msg) => logs.filter((line) => line.msg === msg) }
}

type Served = Pick<TestApp, 'app' | 'server' | 'stats' | 'close'>

async function fastifyServer (options: ServerPushOptions, { setup, after, fastify, before, closing, onConnection, pages = {}, listen = 0 }: AppExtras, logs: LogLine[]): Promise<Served> {
  const logger = capture(logs)
  const app = (fastify?.http2 === true ? Fastify({ http2: true, logger }) : Fastify({ logger })) as unknown as FastifyInstance
  await setup?.(app)
  if (before !== undefined) app.addHook('preHandler', async (request) => { await before(request.raw) })
  await app.register(serverPush, options)
  for (const [path, html] of Object.entries(pages)) app.get(path, (_request, reply) => reply.type('text/html').send(html))
  after?.(app)
  if (closing !== undefined) app.addHook('preClose', async () => { closing() })
  if (onConnection !== undefined) app.server.on('connection', onConnection)
  await app.listen({ port: listen, host: '127.0.0.1' })
  return { app, server: app.server, stats: () => app.serverPush.stats(), close: () => app.close() }
}

/** A route's handler on node:http's server, with what closes it. */
type Handler = ((req: IncomingMessage, res: ServerResponse) => void) & { close: () => Promise<void> }

/** The plugin's options as node handlers: each route's settings over the plugin-level ones. */
function handlersOf (options: ServerPushOptions, logs: LogLine[]): { routes: Map<string, Handler>, stats: () => Record<string, RouteStats> } {
  const { routes = [], prefix = '', statusPath, producerStopTimeoutMs, ...defaults } = options
  const log = pino({ level: 'debug' }, capture(logs).stream)
  const handlers = new Map<string, Handler>()
  const pushes = new Map<string, ReturnType<typeof createPushHandler>>()
  for (const { path, snapshot, snapshotTimeoutMs, ...own } of routes as PushRouteOptions[]) {
    const settings = { ...defaults, ...own, headers: { ...defaults.headers, ...own.headers } }
    const push = createPushHandler({ ...settings, name: prefix + path, log, producerStopTimeoutMs } as Parameters<typeof createPushHandler>[0])
    handlers.set(prefix + path, push)
    pushes.set(prefix + path, push)
    if (snapshot !== undefined) {
      const source = own.source as Parameters<typeof createSnapshotHandler>[0]['source']
      handlers.set(prefix + snapshot, createSnapshotHandler({ source, snapshotTimeoutMs, contentType: settings.contentType, jpegHuffmanTables: settings.jpegHuffmanTables, headers: settings.headers, log }))
    }
  }
  const stats = (): Record<string, RouteStats> => Object.fromEntries([...pushes].map(([path, push]) => [path, push.stats()]))
  if (statusPath !== undefined) {
    handlers.set(prefix + statusPath, Object.assign((_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(stats()))
    }, { close: async () => {} }))
  }
  return { routes: handlers, stats }
}

async function nodeServer (options: ServerPushOptions, { setup, after, fastify, before, closing, onConnection, pages = {}, listen = 0 }: AppExtras, logs: LogLine[]): Promise<Served> {
  if (setup !== undefined || after !== undefined || fastify !== undefined) throw new Error('setup, after and fastify are for Fastify only: use fastifyOnly()')
  const { routes, stats } = handlersOf(options, logs)
  for (const [path, html] of Object.entries(pages)) {
    routes.set(path, Object.assign((_req: IncomingMessage, res: ServerResponse) => { res.writeHead(200, { 'Content-Type': 'text/html' }).end(html) }, { close: async () => {} }))
  }
  await Promise.all([...routes.values()].map((handler) => (handler as { ready?: Promise<void> }).ready))
  let server: Server
  if (SERVER === 'express') {
    const app = express()
    // Express adds X-Powered-By to every response; the exact-bytes tests expect the route's headers alone.
    app.disable('x-powered-by')
    if (before !== undefined) app.use((req, _res, next) => { Promise.resolve(before(req)).then(() => next(), next) })
    for (const [path, handler] of routes) app.get(path, handler)
    // The handlers pass coded errors (a bad ?framing=) to Express's error handlers: this one answers as Fastify does.
    app.use((error: { statusCode?: number, code?: string, message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      const statusCode = error.statusCode ?? 500
      res.status(statusCode).json({ statusCode, code: error.code, error: http.STATUS_CODES[statusCode], message: error.message })
    })
    server = http.createServer(app)
  } else {
    server = http.createServer((req, res) => {
      Promise.resolve(before?.(req)).then(() => {
        const handler = routes.get(new URL(req.url ?? '/', 'http://localhost').pathname)
        if (handler === undefined) return res.writeHead(404).end()
        handler(req, res)
      }, (error: unknown) => res.destroy(error as Error))
    })
  }
  if (onConnection !== undefined) server.on('connection', onConnection)
  server.listen(listen, '127.0.0.1')
  await once(server, 'listening')
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      const ended = Promise.all([...routes.values()].map((handler) => handler.close()))
      closing?.()
      await ended
      await new Promise((resolve) => server.close(resolve))
    })()
    return closed
  }
  // No test of these servers reaches for a Fastify instance; the field is there for the type.
  return { app: undefined as unknown as FastifyInstance, server, stats, close }
}

/** Resolves when `test()` holds, polling each turn of the event loop; rejects after PATIENCE_MS, saying what was awaited. */
export async function eventually (test: () => boolean | Promise<boolean>, awaited = 'condition'): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`${awaited}: not met in ${PATIENCE_MS} ms`)
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
