// What the core logs through: the four levels of pino's API that it uses, so a Fastify request's logger, a
// pino instance or any object with these methods will do, and the core imports no framework.

/** The log call of one level: fields then message (pino's order), or a message alone. */
export type LogCall = (obj: object | string, msg?: string) => void

/** A structured logger, such as pino or Fastify's `request.log`. */
export interface Logger {
  debug: LogCall
  info: LogCall
  warn: LogCall
  error: LogCall
}
