// The command from its arguments to its exit status: the manual, the version, or a server that runs until it is
// told to stop. Everything a process does but read its own arguments and signals (the bin, ../cli.ts), so that
// it runs the same in a test.
import { createRequire } from 'node:module'
import { once } from 'node:events'
import { buildApp } from './app.js'
import { checkConfig } from './config.js'
import { helpText } from './help.js'
import { parseCommandLine } from './options.js'

/** What the command reads and writes besides its arguments. */
export interface CommandIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly env: NodeJS.ProcessEnv
  /** Aborts when the command is to stop: its streams end well-formed, its commands stop, and `main()` resolves. */
  readonly stop: AbortSignal
  /** Told the server's origin (`http://127.0.0.1:8080`) once it listens. */
  readonly listening?: (origin: string) => void
}

/** The exit status of a wrong option or config file, or of anything they ask for that cannot be set up. */
export const USAGE_STATUS = 2
/** The exit status of a server that could not start (its port taken). */
export const FAILED_STATUS = 1

const PROGRAM = 'fastify-server-push'

function version (): string {
  // By the package's own name, which finds its package.json from lib/ as from dist/esm/.
  const { version } = createRequire(import.meta.url)('fastify-server-push/package.json') as { version: string }
  return version
}

/** Runs the command; resolves with its exit status once it is done (for a server, once `io.stop` aborts). */
export async function main (args: readonly string[], io: CommandIo): Promise<number> {
  const fail = (err: unknown, status: number): number => {
    // One line whatever the message: Node's own have line breaks.
    io.stderr(`${PROGRAM}: ${(err as Error).message.replace(/\s+/g, ' ')}\n`)
    return status
  }
  let config
  let built
  try {
    const line = parseCommandLine(args)
    if (line.kind === 'help') {
      io.stdout(helpText())
      return 0
    }
    if (line.kind === 'version') {
      io.stdout(`${version()}\n`)
      return 0
    }
    config = checkConfig(line, io.env)
    built = await buildApp(config)
  } catch (err) {
    // Whatever fails before the server listens comes of what the options asked for (a relay URL relay() refuses).
    return fail(err, USAGE_STATUS)
  }
  const { app, close } = built
  const { port, host } = config
  // A signal while the cameras were being set up: the port is not opened at all.
  if (io.stop.aborted) {
    await close()
    return 0
  }
  let origin
  try {
    origin = await app.listen({ port, host })
  } catch (err) {
    await close()
    return fail(err, FAILED_STATUS)
  }
  io.listening?.(origin)
  if (!io.stop.aborted) await once(io.stop, 'abort')
  app.log.info({ reason: String(io.stop.reason) }, 'closing: every stream ends, every command stops')
  await close()
  return 0
}
