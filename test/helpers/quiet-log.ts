// A logger for handlers whose log lines a test does not read; it imports nothing heavier than the core's types.
import { noop } from '../../lib/core/async.js'
import type { Logger } from '../../lib/core/logger.js'

/** Drops every line. */
export const QUIET: Logger = { debug: noop, info: noop, warn: noop, error: noop }
