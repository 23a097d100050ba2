// Header records from options, hooks and frames, checked and merged into the ordered lists that wire.ts writes.
import { isFieldValue, isToken } from './syntax.js'
import type { HeaderList } from './wire.js'

/** Header fields by name; an array writes one line per value. */
export type HeaderRecord = Readonly<Record<string, string | number | readonly string[]>>

/**
 * Turns a record into header lines, calling `invalid` (which throws) on a name that is not a token or a value
 * with CR, LF or another control character: these are written to the socket as they are.
 */
export function toHeaderList (record: unknown, invalid: (problem: string) => Error): HeaderList {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw invalid('headers must be an object of header names to values')
  }
  const list: Array<[string, string]> = []
  for (const [name, raw] of Object.entries(record)) {
    if (!isToken(name)) throw invalid(`header name ${JSON.stringify(name)} is not a valid HTTP token`)
    for (const item of Array.isArray(raw) ? raw : [raw]) {
      const value = typeof item === 'number' ? String(item) : item
      if (typeof value !== 'string' || !isFieldValue(value)) {
        throw invalid(`header ${name} has an invalid value (a string without CR, LF or other control characters is expected)`)
      }
      list.push([name, value])
    }
  }
  return list
}

/** The names in `list` that appear in `reserved` (lower case). */
export function reservedNames (list: HeaderList, reserved: ReadonlySet<string>): string[] {
  return list.filter(([name]) => reserved.has(name.toLowerCase())).map(([name]) => name)
}

/**
 * Later lists override earlier ones by case-insensitive name (all lines of that name), keeping the place and
 * spelling of the first; new names are appended in order.
 */
export function mergeHeaders (...lists: HeaderList[]): HeaderList {
  const merged = new Map<string, { name: string, values: string[] }>()
  for (const list of lists) {
    const replaced = new Set<string>()
    for (const [name, value] of list) {
      const key = name.toLowerCase()
      let entry = merged.get(key)
      if (entry === undefined) {
        entry = { name, values: [] }
        merged.set(key, entry)
      } else if (!replaced.has(key)) {
        entry.values = []
      }
      replaced.add(key)
      entry.values.push(value)
    }
  }
  const out: Array<[string, string]> = []
  for (const { name, values } of merged.values()) for (const value of values) out.push([name, value])
  return out
}
