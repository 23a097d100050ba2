// The plugin's options: their types (the documentation users read) and their checks, done once at register.
import { FST_SERVER_PUSH_INVALID_OPTION } from './errors.js'
import { mergeHeaders, reservedNames, toHeaderList, type HeaderRecord } from './headers.js'
import { isLiveSource, type LiveSource } from './live/source.js'
import { isFileSource, type FileSource } from './sources/files.js'
import type { SourceFunction } from './sources/function.js'
import { boundaryProblem, isHtml, isMediaType } from './syntax.js'
import { multipart, PLAIN_HEADERS, randomBoundary, RESPONSE_RESERVED, STREAM_HEADERS, type FramingName, type HeaderList, type Multipart } from './wire.js'

/**
 * Where a route's frames come from: a function (see `SourceFunction`), `fromFiles()` / `fromDirectory()`, or a
 * live source (`createLiveSource()`, `liveFrom()`) that every viewer of the route shares.
 */
export type Source = SourceFunction | FileSource | LiveSource

/** `auto`: per request, by the kind of client; or one framing for every request. */
export type FramingChoice = 'auto' | FramingName

/** Settings a route may set, and the plugin may set for all its routes. */
export interface PushSettings {
  /** At most one part per `intervalMs` milliseconds on each stream; 0 (the default) = as fast as the source and the client go. */
  intervalMs?: number
  /** At most this many parts per second to each viewer; a live viewer skips the frames in between. Default: no limit. */
  maxFps?: number
  /** More viewers than this at once are answered 503 with Retry-After. Default: no limit. */
  maxClients?: number
  /**
   * When nothing was sent to a viewer for this long, its last part is sent again, and again at this period while
   * the source stays quiet: a client that shows a part only once more data arrives (a browser given standard
   * framing, WebKit) keeps showing it, and proxies see traffic. Raised to twice the gap intervalMs and maxFps
   * set, so that a source keeping its pace is never repeated. 0 = off, else at least 100. Default 1000, and 0
   * for text/html routes: each pushed page is a new document, which a repeat would reload.
   */
  idleRepeatMs?: number
  /**
   * How parts are laid out (see `FramingName`). `auto` (the default) gives `advance` to what a browser renders
   * (an image, a page, a frame, an embed: told by `Sec-Fetch-Dest`, or by a `Mozilla/` User-Agent from browsers
   * too old to send it) and `standard` to every other client, `fetch()` included. A request's
   * `?framing=standard` or `?framing=advance` overrides it.
   */
  framing?: FramingChoice
  /** A viewer whose socket is full and makes no progress this long (no part written, no byte taken by the
   * kernel) is cut off, logged as `stalled`; 0 = never. A slow reader is not stalled. Default 30000. */
  stallTimeoutMs?: number
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
  /**
   * Live sources only: a path (below `prefix`) that answers the latest frame as a single plain response, e.g.
   * `/video.jpg`. Before the first frame it waits up to `snapshotTimeoutMs`, then answers 503.
   */
  snapshot?: string
  /** How long a snapshot request waits for a first frame, in ms. Default 5000. */
  snapshotTimeoutMs?: number
}

export interface ServerPushOptions extends PushSettings {
  /** Prepended to every route path (fastify-plugin ignores register's `prefix`). */
  prefix?: string
  /** A path (below `prefix`) that answers `app.serverPush.stats()` as JSON. Default: none. */
  statusPath?: string
  routes: PushRouteOptions[]
}

/** A route with every setting checked and defaulted. */
export interface ResolvedRoute {
  readonly path: string
  readonly source: Source
  readonly contentType: string
  readonly multipart: Multipart
  readonly framing: FramingChoice
  /** Least time between two parts to one viewer: from intervalMs and maxFps. */
  readonly minGapMs: number
  readonly maxClients: number
  readonly stallTimeoutMs: number
  /** 0 = off; otherwise at least twice minGapMs. */
  readonly idleRepeatMs: number
  /** Parts are HTML pages (the route's contentType is text/html). */
  readonly html: boolean
  /** The stream's response headers after Content-Type: the plugin's, then the plugin-level and route-level ones. */
  readonly headers: HeaderList
  /** The headers of the route's plain responses (snapshot, reader page): no-cache, then the user's. */
  readonly plainHeaders: HeaderList
  readonly snapshot: { readonly path: string, readonly timeoutMs: number } | undefined
}

interface ResolvedOptions {
  readonly routes: ResolvedRoute[]
  readonly statusPath: string | undefined
}

const SETTINGS = ['intervalMs', 'maxFps', 'maxClients', 'idleRepeatMs', 'stallTimeoutMs', 'framing', 'contentType', 'boundary', 'headers'] as const
const PLUGIN_KEYS = new Set<string>([...SETTINGS, 'prefix', 'statusPath', 'routes'])
const ROUTE_KEYS = new Set<string>([...SETTINGS, 'path', 'source', 'snapshot', 'snapshotTimeoutMs'])

type NumberOption = 'intervalMs' | 'maxFps' | 'maxClients' | 'idleRepeatMs' | 'stallTimeoutMs' | 'snapshotTimeoutMs'

const NUMBER_RULES: Record<NumberOption, { test: (n: number) => boolean, text: string }> = {
  intervalMs: { test: (n) => n >= 0, text: 'a finite number >= 0' },
  maxFps: { test: (n) => n > 0, text: 'a finite number > 0' },
  maxClients: { test: (n) => Number.isInteger(n) && n >= 1, text: 'a whole number >= 1' },
  idleRepeatMs: { test: (n) => n === 0 || n >= 100, text: '0 (off) or a finite number >= 100' },
  stallTimeoutMs: { test: (n) => n >= 0, text: 'a finite number >= 0 (0 = never)' },
  snapshotTimeoutMs: { test: (n) => n >= 0, text: 'a finite number >= 0' }
}

const FRAMINGS: FramingChoice[] = ['auto', 'standard', 'advance']

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

function checkNumber (where: string, value: Record<string, unknown>, name: NumberOption): number | undefined {
  const n = value[name]
  if (n === undefined) return undefined
  const rule = NUMBER_RULES[name]
  if (typeof n !== 'number' || !Number.isFinite(n) || !rule.test(n)) throw fail(where, `${name} must be ${rule.text}, got ${String(n)}`)
  return n
}

function checkPath (where: string, name: string, path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw fail(where, `${name} must be a string starting with "/", got ${JSON.stringify(path)}`)
  }
  return path
}

/** PushSettings once checked: headers as the lines to write. */
type Settings = { [K in keyof Omit<PushSettings, 'headers'>]?: PushSettings[K] | undefined } & { headers?: HeaderList }

function checkSettings (where: string, value: Record<string, unknown>): Settings {
  const settings: Settings = {
    intervalMs: checkNumber(where, value, 'intervalMs'),
    maxFps: checkNumber(where, value, 'maxFps'),
    maxClients: checkNumber(where, value, 'maxClients'),
    idleRepeatMs: checkNumber(where, value, 'idleRepeatMs'),
    stallTimeoutMs: checkNumber(where, value, 'stallTimeoutMs')
  }
  const { framing, contentType, boundary, headers } = value
  if (framing !== undefined) {
    if (!FRAMINGS.includes(framing as FramingChoice)) {
      throw fail(where, `framing must be "auto", "standard" or "advance", got ${JSON.stringify(framing)}`)
    }
    settings.framing = framing as FramingChoice
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
export function resolveOptions (options: unknown): ResolvedOptions {
  if (!isObject(options)) throw fail('options', 'must be an object with a routes array')
  checkKeys('options', options, PLUGIN_KEYS)
  const defaults = checkSettings('options', options)
  const prefix = checkPrefix(options.prefix)
  const { routes } = options
  if (!Array.isArray(routes) || routes.length === 0) throw fail('options', 'routes must be a non-empty array of routes')
  const seen = new Map<string, string>()
  const claim = (path: string, where: string): void => {
    const other = seen.get(path)
    if (other !== undefined) throw fail(where, `path ${path} is already taken by ${other}`)
    seen.set(path, where)
  }
  const statusPath = options.statusPath === undefined ? undefined : prefix + checkPath('options', 'statusPath', options.statusPath)
  if (statusPath !== undefined) claim(statusPath, 'options.statusPath')
  const resolved = routes.map((route: unknown, index): ResolvedRoute => {
    let where = `routes[${index}]`
    if (!isObject(route)) throw fail(where, 'must be an object with path and source')
    const path = prefix + checkPath(where, 'path', route.path)
    where += ` (${path})`
    checkKeys(where, route, ROUTE_KEYS)
    claim(path, where)
    const { source } = route
    if (typeof source !== 'function' && !isFileSource(source) && !isLiveSource(source)) {
      throw fail(where, 'source must be a function, fromFiles(), fromDirectory(), createLiveSource() or liveFrom(), got ' +
        (source === null ? 'null' : typeof source))
    }
    let snapshot: ResolvedRoute['snapshot']
    if (route.snapshot !== undefined) {
      if (!isLiveSource(source)) throw fail(where, 'snapshot needs a live source (createLiveSource() or liveFrom())')
      snapshot = { path: prefix + checkPath(where, 'snapshot', route.snapshot), timeoutMs: checkNumber(where, route, 'snapshotTimeoutMs') ?? 5000 }
      claim(snapshot.path, `${where}.snapshot`)
    } else if (route.snapshotTimeoutMs !== undefined) {
      throw fail(where, 'snapshotTimeoutMs is set but snapshot is not')
    }
    const own = checkSettings(where, route)
    const maxFps = own.maxFps ?? defaults.maxFps
    const userHeaders = mergeHeaders(defaults.headers ?? [], own.headers ?? [])
    const contentType = own.contentType ?? defaults.contentType ?? 'image/jpeg'
    const minGapMs = Math.max(own.intervalMs ?? defaults.intervalMs ?? 0, maxFps === undefined ? 0 : 1000 / maxFps)
    const html = isHtml(contentType)
    const idleRepeatMs = own.idleRepeatMs ?? defaults.idleRepeatMs ?? (html ? 0 : 1000)
    return {
      path,
      source: source as Source,
      contentType,
      multipart: multipart(own.boundary ?? defaults.boundary ?? randomBoundary()),
      framing: own.framing ?? defaults.framing ?? 'auto',
      minGapMs,
      maxClients: own.maxClients ?? defaults.maxClients ?? Infinity,
      stallTimeoutMs: own.stallTimeoutMs ?? defaults.stallTimeoutMs ?? 30_000,
      idleRepeatMs: idleRepeatMs === 0 ? 0 : Math.max(idleRepeatMs, 2 * minGapMs),
      html,
      headers: mergeHeaders(STREAM_HEADERS, userHeaders),
      plainHeaders: mergeHeaders(PLAIN_HEADERS, userHeaders),
      snapshot
    }
  })
  return { routes: resolved, statusPath }
}
