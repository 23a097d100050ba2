// A real redis-server (Debian's) of the test's own: on a free port of 127.0.0.1, nothing saved to disk, stopped
// with the test. It can be killed and started again on the same port, as an outage would.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createClient } from '@redis/client'
import type { Test } from 'tap'
import { freePort } from './child.js'
import { PATIENCE_MS } from './patience.js'

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>`, or what the server was started for (auth, TLS). */
  readonly url: string
  /** SIGKILL, as a crash would; resolves once it has exited. */
  kill (): Promise<void>
  /** Starts it again on the same port; resolves once it accepts connections. */
  start (): Promise<void>
  /** Sends the server a signal: SIGSTOP makes it a server that stops answering, SIGCONT brings it back. */
  signal (signal: NodeJS.Signals): void
  /** What the server has logged since it was first started. */
  log (): string
  /** Runs one command on a connection of its own (CONFIG SET, CLIENT LIST, PUBLISH of garbage). */
  command (args: Array<string | Buffer>): Promise<unknown>
}

export interface RedisServerOptions {
  /** More redis-server arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[]
  /** The URL the test's clients use; default `redis://127.0.0.1:<port>`. */
  url?: (port: number) => string
  /** Options for `command()`'s client (TLS trust, say). */
  client?: Parameters<typeof createClient>[0]
  /** Whether to start it now. Default true. */
  started?: boolean
}

export async function startRedis (t: Test, { args = [], url, client, started = true }: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort()
  let child: ChildProcess | undefined
  let log = ''
  const tls = args.includes('--tls-port')
  const start = async (): Promise<void> => {
    const portArgs = tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]
    const running = child = spawn('redis-server', [
      ...portArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice',
      ...args.filter((arg, i) => arg !== '--tls-port' && args[i - 1] !== '--tls-port')
    ], { stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${output}`)), PATIENCE_MS)
      running.stdout?.on('data', (chunk: Buffer) => {
        output += String(chunk)
        log += String(chunk)
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      running.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${output}`)) })
    })
  }
  const kill = async (): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    const exited = once(running, 'exit')
    running.kill('SIGKILL')
    await exited
  }
  t.teardown(kill)
  if (started) await start()
  const address = url?.(port) ?? `redis://127.0.0.1:${port}`
  return {
    port,
    url: address,
    kill,
    start,
    log: () => log,
    signal: (signal) => { child?.kill(signal) },
    command: async (command) => {
      const connection = createClient({ url: address, ...client })
      await connection.connect()
      try {
        return await connection.sendCommand(command)
      } finally {
        connection.destroy()
      }
    }
  }
}

/** How many connections the server has besides the one asking (for leak checks). */
export async function clientCount (redis: RedisServer): Promise<number> {
  const list = String(await redis.command(['CLIENT', 'LIST']))
  return list.split('\n').filter((line) => line.trim() !== '').length - 1
}
