#!/usr/bin/env node
// The `fastify-server-push` command (package.json's bin): its arguments and signals handed to ./cli/main.ts, its
// exit status set from what that returns. A second signal does not wait for streams and commands to end: it kills
// the commands' process groups, which the terminal's signal does not reach, and exits.
import { main } from './cli/main.js'
import { killCommandGroups } from './core/sources/command.js'

const stop = new AbortController()
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) {
      killCommandGroups()
      process.exit(1)
    }
    stop.abort(signal)
  })
}
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stop: stop.signal
})
