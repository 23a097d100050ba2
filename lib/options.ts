// The plugin's options: their types (the documentation users read) and their checks, done once at register.
import { FST_SERVER_PUSH_INVALID_OPTION } from './errors.js'
import { mergeHeaders, reservedNames, toHeaderList, type HeaderRecord } from './headers.js'
import { isFileSource, type FileSource } from './sources/files.js'
import type { SourceFunction } from './sources/function.js'
import { boundaryProblem, isMediaType } from './syntax.js'
import { framing, randomBoundary, RESPONSE_RESERVED, STREAM_HEADERS, type Framing, type HeaderList } from './wire.js'

/** Where a route's frames come from: a function (see `SourceFunction`), or `fromFiles()` / `fromDirectory()`. */
export type Source = SourceFunction | FileSource

/** Settings a route may set, and the plugin may set for all its routes. */
export interface PushSettings {
  /** At most one part per `intervalMs` milliseconds on each stream; 0 (the default) = as fast as the source and the client go. */
  intervalMs?: number
  /** Content-Type of parts whose frame carries none. Default `image/jpeg`. */
  contentType?: string
  /**
   * The multipart boundary: 1 to 70 letters, digits or `'+_-.`, without the leading `--`.
   * Default: random per route, the same for all its clients.
   */
  boundary?: string
  /** Extra response headers (route headers override plugin headers by name). Content-Type, Content-Length,
   * Transfer-Encoding and Connection are the plugin's. Headers set by hooks with `reply.header()` override these. */
  headers?: HeaderRecord
}

/** One push route: `GET` (and `HEAD`) on `path` answers a multipart/x-mixed-replace stream of `source`'s frames. */
export interface PushRouteOptions extends PushSettings {
  /** Route path, as in `fastify.route()` (parameters allowed), below the plugin's `prefix`. */
  path: string
  source: Source
}

export interface ServerPushOptions extends PushSettings {
  /** Prepended to every route path (fastify-plugin ignores register's `prefix`). */
  prefix?: string
  routes: PushRouteOptions[]
}

/** A route with every setting checked and defaulted. */
export interface ResolvedRoute {
  readonly path: string
  readonly source: Source
  readonly intervalMs: number
  readonly contentType: string
  readonly framing: Framing
  /** The response headers after Content-Type: the plugin's, then the plugin-level and route-level ones. */
  readonly headers: HeaderList
}

const SETTINGS = ['intervalMs', 'contentType', 'boundary', 'headers'] as const
const PLUGIN_KEYS = new Set<string>([...SETTINGS, 'prefix', 'routes'])
const ROUTE_KEYS = new Set<string>([...SETTINGS, 'path', 'source'])

function fail (where: string, problem: string): Error {
  return new FST_SERVER_PUSH_INVALID_OPTION(`${where}: ${problem}`)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkKeys (where: string, value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw fail(where, `unknown option "${key}" (known: ${[...known].join(', ')})`)
  }
}

interface Settings {
  intervalMs?: number
  contentType?: string
  boundary?: string
  headers?: HeaderList
}

function checkSettings (where: string, value: Record<string, unknown>): Settings {
  const settings: Settings = {}
  const { intervalMs, contentType, boundary, headers } = value
  if (intervalMs !== undefined) {
    if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < 0) {
      throw fail(where, `intervalMs must be a finite number >= 0, got ${String(intervalMs)}`)
    }
    settings.intervalMs = intervalMs
  }
  if (contentType !== undefined) {
    if (typeof contentType !== 'string' || !isMediaType(contentType)) {
      throw fail(where, `contentType must be a media type like image/jpeg or text/html, got ${JSON.stringify(contentType)}`)
    }
    settings.contentType = contentType
  }
  if (boundary !== undefined) {
    const problem = typeof boundary === 'string' ? boundaryProblem(boundary) : 'must be a string'
    if (problem !== undefined) throw fail(where, `boundary ${problem}, got ${JSON.stringify(boundary)}`)
    settings.boundary = boundary as string
  }
  if (headers !== undefined) {
    const list = toHeaderList(headers, (problem) => fail(where, problem))
    const reserved = reservedNames(list, RESPONSE_RESERVED)
    if (reserved.length > 0) throw fail(where, `header ${reserved[0]} is set by the plugin and cannot be changed`)
    settings.headers = list
  }
  return settings
}

function checkPrefix (prefix: unknown): string {
  if (prefix === undefined) return ''
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.startsWith('/'))) {
    throw fail('options', `prefix must be a path starting with "/", got ${JSON.stringify(prefix)}`)
  }
  return prefix.replace(/\/+$/, '')
}

/** Checks the options and resolves each route's settings; throws FST_SERVER_PUSH_INVALID_OPTION on the first problem. */
export function resolveOptions (options: unknown): ResolvedRoute[] {
  if (!isObject(options)) throw fail('options', 'must be an object with a routes array')
  checkKeys('options', options, PLUGIN_KEYS)
  const defaults = checkSettings('options', options)
  const prefix = checkPrefix(options.prefix)
  const { routes } = options
  if (!Array.isArray(routes) || routes.length === 0) throw fail('options', 'routes must be a non-empty array of routes')
  const seen = new Map<string, number>()
  return routes.map((route: unknown, index): ResolvedRoute => {
    let where = `routes[${index}]`
    if (!isObject(route)) throw fail(where, 'must be an object with path and source')
    const { path, source } = route
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw fail(where, `path must be a string starting with "/", got ${JSON.stringify(path)}`)
    }
    const fullPath = prefix + path
    where += ` (${fullPath})`
    checkKeys(where, route, ROUTE_KEYS)
    const other = seen.get(fullPath)
    if (other !== undefined) throw fail(where, `path is a duplicate of routes[${other}]`)
    seen.set(fullPath, index)
    if (typeof source !== 'function' && !isFileSource(source)) {
      throw fail(where, 'source must be a function, fromFiles() or fromDirectory(), got ' +
        (source === null ? 'null' : typeof source))
    }
    const own = checkSettings(where, route)
    return {
      path: fullPath,
      source: source as Source,
      intervalMs: own.intervalMs ?? defaults.intervalMs ?? 0,
      contentType: own.contentType ?? defaults.contentType ?? 'image/jpeg',
      framing: framing(own.boundary ?? defaults.boundary ?? randomBoundary()),
      headers: mergeHeaders(STREAM_HEADERS, defaults.headers ?? [], own.headers ?? [])
    }
  })
}
