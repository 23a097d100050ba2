// Header records from options, hooks and frames, checked and merged into the ordered lists that wire.ts writes;
// the lists the plugin writes itself, and the names no one else may set.
import { isFieldValue, isToken } from './syntax.js'

/** Header lines in the order they are written. */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>

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

/**
 * Headers every response of a push route carries, streams, snapshots and reader pages alike: no cache, the
 * browser's or a proxy's, keeps a live image, and no browser takes the bytes for another type than the one
 * given (a part relayed from a camera is shown as the image it says it is, or not at all).
 */
export const PLAIN_HEADERS: HeaderList = [
  ['Cache-Control', 'no-cache, no-store, must-revalidate, no-transform'],
  ['Pragma', 'no-cache'],
  ['Expires', '0'],
  ['X-Content-Type-Options', 'nosniff']
]

/** Headers every push response carries, before any the user adds: nothing may cache or buffer a live stream. */
export const STREAM_HEADERS: HeaderList = [
  ...PLAIN_HEADERS,
  ['X-Accel-Buffering', 'no'],
  ['Connection', 'close']
]

/** Response headers the plugin writes itself, which neither options nor hooks may set (lower case). */
export const RESPONSE_RESERVED: ReadonlySet<string> = new Set(['content-type', 'content-length', 'transfer-encoding', 'connection'])

/** Part headers the plugin writes itself, which no frame may set (lower case). */
const PART_RESERVED: ReadonlySet<string> = new Set(['content-type', 'content-length'])

/** The part header of an offline part alone (see offline.ts): a frame carrying it would pass for one. */
export const OFFLINE_HEADER = 'X-Offline'

/**
 * `X-…` names that browsers, proxies or servers act on (security policies, framing, proxy and server directives,
 * client addresses): a frame may not carry them. A name ending in `-` stands for every name it begins.
 */
const ACTED_ON: readonly string[] = [
  'x-accel-', 'x-cache-', 'x-client-ip', 'x-cluster-client-ip', 'x-content-', 'x-dns-prefetch-control',
  'x-download-options', 'x-envoy-', 'x-forwarded-', 'x-frame-options', 'x-http-method-override', 'x-lighttpd-',
  'x-litespeed-', 'x-middleware-', 'x-original-', 'x-permitted-cross-domain-policies', 'x-pingback', 'x-powered-by',
  'x-real-ip', 'x-rewrite-url', 'x-robots-tag', 'x-sendfile', 'x-sourcemap', 'x-ua-compatible', 'x-webkit-',
  'x-xss-protection'
]

/**
 * Why a frame may not carry the header `name` onto a part or a snapshot, or `undefined` when it may. Frames come
 * from producers and, through Redis, from whoever can publish on a channel: they may label a frame, never set
 * what a browser, a proxy or a server acts on (framing, caching, cookies, security policies, CORS, redirects,
 * encodings). So the one rule: `X-…` names but those in ACTED_ON (X-Frame, X-Seq, X-Timestamp pass;
 * X-Frame-Options, X-Content-Type-Options, X-Forwarded-For do not), and `Last-Modified`.
 */
export function frameHeaderProblem (name: string): string | undefined {
  const key = name.toLowerCase()
  if (PART_RESERVED.has(key)) return `part header ${name} is set by the plugin; use contentType`
  if (key === OFFLINE_HEADER.toLowerCase()) return `part header ${name} is set by the plugin, on offline parts alone`
  const labels = key === 'last-modified' || (/^x-./.test(key) && !ACTED_ON.some((entry) => entry.endsWith('-') ? key.startsWith(entry) : key === entry))
  if (labels) return undefined
  return `part header ${name} is not one a frame may carry: only X-… names (but those browsers, proxies or servers act on, such as X-Frame-Options) and Last-Modified`
}
