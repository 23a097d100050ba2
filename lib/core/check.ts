// The one check of a number option, for route settings and for source and reader factories alike: a wrong one
// fails at once, naming where it was given.
import { FST_SERVER_PUSH_INVALID_OPTION } from './errors.js'

/** What a number option must be, and how to say so. */
export interface NumberRule {
  readonly test: (n: number) => boolean
  readonly text: string
}

/** Any finite number >= `min`. */
export function atLeast (min: number): NumberRule {
  return { test: (n) => n >= min, text: `a finite number >= ${min}` }
}

/**
 * `value` when it is undefined or a finite number that passes `rule` (a number means `atLeast` it); else throws
 * FST_SERVER_PUSH_INVALID_OPTION (a TypeError) naming `where` and `name`.
 */
export function checkNumber (where: string, name: string, value: unknown, rule: NumberRule | number): number | undefined {
  if (value === undefined) return undefined
  const { test, text } = typeof rule === 'number' ? atLeast(rule) : rule
  if (typeof value !== 'number' || !Number.isFinite(value) || !test(value)) {
    throw invalidOption(where, `${name} must be ${text}, got ${String(value)}`)
  }
  return value
}

/** The error of a wrong option: `where` names the route or factory, `problem` the field. */
export function invalidOption (where: string, problem: string): Error {
  return new FST_SERVER_PUSH_INVALID_OPTION(`${where}: ${problem}`)
}

export function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A source factory's options: undefined (none) or an object whose every key is in `known` (its option type's,
 * spelt out with `satisfies Record<keyof Options, true>` so that the list cannot fall behind the type).
 */
export function checkFactoryOptions (where: string, options: unknown, known: Record<string, true>): void {
  if (options === undefined) return
  if (!isObject(options)) throw invalidOption(where, `options must be an object, got ${options === null ? 'null' : typeof options}`)
  checkKeys(where, options, new Set(Object.keys(known)))
}

/** Throws on the first key of `value` that is not in `known`: a misspelt option is not silently ignored. */
export function checkKeys (where: string, value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw invalidOption(where, `unknown option "${key}" (known: ${[...known].join(', ')})`)
  }
}
