// The Fastify plugin's options and route options: their types, and the checks of what the core does not know
// (paths, prefix, the routes array, snapshots), done once at register or when a route is added.
import type { FastifyRequest } from 'fastify'
import { checkKeys, checkNumber, invalidOption, isObject } from '../core/check.js'
import type { HeaderRecord } from '../core/headers.js'
import { A_LIVE_SOURCE, isLiveSource, type LiveSource } from '../core/live/source.js'
import { checkPushOptions, type PushOptions } from '../core/push-route.js'
import { checkSettings, SETTING_KEYS, type CheckedSettings, type PushSettings } from '../core/settings.js'

/** A push route's options as a Fastify route option: `app.get(url, { serverPush: { source, ... } }, handler)`. */
export type ServerPushRouteOption = PushOptions<FastifyRequest>

/** A snapshot route's options as a Fastify route option: `app.get(url, { serverPushSnapshot: { source } }, handler)`. */
export interface ServerPushSnapshotOption {
  /** The live source whose latest frame the route answers. */
  source: LiveSource
  /** How long a request waits for a first frame before it is answered 503, in ms. Default 5000. */
  snapshotTimeoutMs?: number
  /** Content-Type of a frame that carries none. Default: the plugin's, else `image/jpeg`. */
  contentType?: string
  /** Whether a JPEG frame without Huffman tables gets the standard ones (see PushSettings). Default: the plugin's, else true. */
  jpegHuffmanTables?: boolean
  /** Extra response headers, over the plugin's. */
  headers?: HeaderRecord
}

/** One push route of the plugin's `routes`: `GET` (and `HEAD`) on `path` answers a stream of `source`'s frames. */
export interface PushRouteOptions extends ServerPushRouteOption {
  /** Route path, as in `fastify.route()` (parameters allowed), below the plugin's `prefix`. */
  path: string
  /**
   * Live sources only: a path (below `prefix`) that answers the latest frame as a single plain response, e.g.
   * `/video.jpg`. Before the first frame it waits up to `snapshotTimeoutMs`, then answers 503.
   */
  snapshot?: string
  /** How long a snapshot request waits for a first frame, in ms. Default 5000. */
  snapshotTimeoutMs?: number
}

export interface ServerPushOptions extends PushSettings {
  /** Prepended to every path of `routes` and `statusPath`, after the prefix of the context the plugin is
   * registered in (fastify-plugin ignores register's own `prefix`). */
  prefix?: string
  /** A path (below `prefix`) that answers `app.serverPush.stats()` as JSON. Default: none. */
  statusPath?: string
  /** Push routes declared here rather than as Fastify routes with the `serverPush` option (from config, say). */
  routes?: PushRouteOptions[]
  /** How long `app.close()` waits for live producers to stop (processes to exit), in ms. Default 5000. */
  producerStopTimeoutMs?: number
}

/** The plugin's options, checked: the defaults of every route, and what the plugin registers itself. */
export interface CheckedOptions {
  readonly defaults: CheckedSettings
  readonly statusPath: string | undefined
  readonly routes: readonly PushRouteOptions[]
  readonly producerStopTimeoutMs: number
}

const PLUGIN_KEYS = new Set([...SETTING_KEYS, 'prefix', 'statusPath', 'routes', 'producerStopTimeoutMs'])
const ROUTE_OPTION_KEYS = new Set([...SETTING_KEYS, 'source'])
const ROUTES_KEYS = new Set([...ROUTE_OPTION_KEYS, 'path', 'snapshot', 'snapshotTimeoutMs'])
const SNAPSHOT_KEYS = new Set(['source', 'snapshotTimeoutMs', 'contentType', 'jpegHuffmanTables', 'headers'])

function checkPath (where: string, name: string, path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw invalidOption(where, `${name} must be a string starting with "/", got ${JSON.stringify(path)}`)
  }
  return path
}

function checkPrefix (prefix: unknown): string {
  if (prefix === undefined) return ''
  if (typeof prefix !== 'string' || (prefix !== '' && !prefix.startsWith('/'))) {
    throw invalidOption('options', `prefix must be a path starting with "/", got ${JSON.stringify(prefix)}`)
  }
  return prefix.replace(/\/+$/, '')
}

/** Checks a `serverPush` route option (or a `routes` entry without its own keys); returns its own settings. */
export function checkRouteOption (where: string, option: unknown, known: ReadonlySet<string> = ROUTE_OPTION_KEYS): CheckedSettings {
  if (!isObject(option)) throw invalidOption(where, 'must be an object with a source')
  return checkPushOptions(where, option, known)
}

/** Checks a `serverPushSnapshot` route option but its timeout (the snapshot route's own); returns its own settings. */
export function checkSnapshotOption (where: string, option: unknown): CheckedSettings {
  if (!isObject(option)) throw invalidOption(where, 'must be an object with a live source')
  checkKeys(where, option, SNAPSHOT_KEYS)
  if (!isLiveSource(option.source)) throw invalidOption(where, `snapshot needs ${A_LIVE_SOURCE}`)
  return checkSettings(where, { contentType: option.contentType, jpegHuffmanTables: option.jpegHuffmanTables, headers: option.headers })
}

/** Checks the plugin's options; throws FST_SERVER_PUSH_INVALID_OPTION on the first problem, naming where it is. */
export function checkOptions (options: unknown): CheckedOptions {
  if (!isObject(options)) throw invalidOption('options', 'must be an object')
  checkKeys('options', options, PLUGIN_KEYS)
  const defaults = checkSettings('options', options)
  const prefix = checkPrefix(options.prefix)
  const { routes = [] } = options
  if (!Array.isArray(routes)) throw invalidOption('options', 'routes must be an array of routes')
  const seen = new Map<string, string>()
  const claim = (path: string, where: string): void => {
    const other = seen.get(path)
    if (other !== undefined) throw invalidOption(where, `path ${path} is already taken by ${other}`)
    seen.set(path, where)
  }
  const statusPath = options.statusPath === undefined ? undefined : prefix + checkPath('options', 'statusPath', options.statusPath)
  if (statusPath !== undefined) claim(statusPath, 'options.statusPath')
  const checked = routes.map((route: unknown, index): PushRouteOptions => {
    let where = `routes[${index}]`
    if (!isObject(route)) throw invalidOption(where, 'must be an object with path and source')
    const path = prefix + checkPath(where, 'path', route.path)
    where += ` (${path})`
    claim(path, where)
    checkRouteOption(where, route, ROUTES_KEYS)
    if (route.snapshot !== undefined) {
      if (!isLiveSource(route.source)) throw invalidOption(where, `snapshot needs ${A_LIVE_SOURCE}`)
      claim(prefix + checkPath(where, 'snapshot', route.snapshot), `${where}.snapshot`)
      checkNumber(where, 'snapshotTimeoutMs', route.snapshotTimeoutMs, 0)
    } else if (route.snapshotTimeoutMs !== undefined) {
      throw invalidOption(where, 'snapshotTimeoutMs is set but snapshot is not')
    }
    const snapshot = route.snapshot === undefined ? undefined : prefix + (route.snapshot as string)
    return { ...(route as unknown as PushRouteOptions), path, snapshot }
  })
  const producerStopTimeoutMs = checkNumber('options', 'producerStopTimeoutMs', options.producerStopTimeoutMs, 0) ?? 5000
  return { defaults, statusPath, routes: checked, producerStopTimeoutMs }
}
