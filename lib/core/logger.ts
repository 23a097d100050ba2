// What the core logs through: the four levels of pino's API that it uses, so a Fastify request's logger, a
// pino instance or any object with these methods will do, and the core imports no framework.
import { noop } from './async.js'

/** The log call of one level: fields then message (pino's order), or a message alone. */
export type LogCall = (obj: object | string, msg?: string) => void

/** A structured logger, such as pino or Fastify's `request.log`. */
export interface Logger {
  debug: LogCall
  info: LogCall
  warn: LogCall
  error: LogCall
}

/** A log call that writes the message, then the fields, with the console's method of that name at the time. */
function toConsole (level: 'warn' | 'error'): LogCall {
  return (obj, msg) => { typeof obj === 'string' ? console[level](obj) : console[level](msg, obj) }
}

/** Where warnings and errors go when no logger was given: the console; debug and info lines are dropped. */
export const CONSOLE_LOG: Logger = { debug: noop, info: noop, warn: toConsole('warn'), error: toConsole('error') }
