// How long closing a server waits for the live producers its routes stopped (a process to exit): the option, its
// check and the wait, alike under every server adapter.
import { settlesWithin } from './async.js'
import { checkNumber } from './check.js'
import type { Logger } from './logger.js'

/** The option of whatever closes push routes: the Fastify plugin, a push handler. */
export interface ProducerStopOption {
  /** How long closing waits for live producers to stop (processes to exit), in ms. Default 5000. */
  producerStopTimeoutMs?: number
}

/** `producerStopTimeoutMs` checked, or its default; throws FST_SERVER_PUSH_INVALID_OPTION naming `where`. */
export function checkProducerStopTimeout (where: string, options: ProducerStopOption): number {
  return checkNumber(where, 'producerStopTimeoutMs', options.producerStopTimeoutMs, 0) ?? 5000
}

/** Waits up to `timeoutMs` for `stopped`; producers still stopping then are logged and left to finish alone. */
export async function waitForProducers (stopped: Promise<unknown>, timeoutMs: number, log: Logger): Promise<void> {
  if (!await settlesWithin(stopped, timeoutMs)) {
    log.warn({ waitedMs: timeoutMs }, 'server push producers still stopping; closed without them')
  }
}
