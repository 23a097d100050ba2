// The Fastify plugin's options and route options: their types, and the checks of what the core does not know
// (the plugin's paths and prefix, the routes array), done once at register or when a route is added.
import type { FastifyRequest } from 'fastify'
import { checkKeys, invalidOption, isObject } from '../core/check.js'
import { checkProducerStopTimeout, type ProducerStopOption } from '../core/producer-stop.js'
import { checkPushOptions, type PushOptions } from '../core/push-route.js'
import { PUSH_VIEW_PATH } from '../core/push-view.js'
import { checkSettings, SETTING_KEYS, type CheckedSettings, type PushSettings } from '../core/settings.js'
import { checkSnapshotOptions, SNAPSHOT_KEYS, type SnapshotOptions } from '../core/snapshot-route.js'

/** A push route's options as a Fastify route option: `app.get(url, { serverPush: { source, ... } }, handler)`. */
export type ServerPushRouteOption = PushOptions<FastifyRequest>

/** A snapshot route's options as a Fastify route option: `app.get(url, { serverPushSnapshot: { source } }, handler)`. */
export type ServerPushSnapshotOption = SnapshotOptions

/**
 * One push route of the plugin's `routes`: `GET` (and `HEAD`) on `path` answers a stream of `source`'s frames,
 * as a route with the `serverPush` option would.
 */
export interface PushRouteOptions extends ServerPushRouteOption, Pick<SnapshotOptions, 'snapshotTimeoutMs'> {
  /** Route path, as in `fastify.route()` (parameters allowed), below the plugin's `prefix`. */
  path: string
  /**
   * Live sources only: a path (below `prefix`) that answers the latest frame as a single plain response, e.g.
   * `/video.jpg`, as a route with the `serverPushSnapshot` option would, with this entry's source, contentType,
   * jpegHuffmanTables, headers, signingKeys and snapshotTimeoutMs.
   */
  snapshot?: string
}

export interface ServerPushOptions extends PushSettings, ProducerStopOption {
  /** Prepended to every path of `routes` and `statusPath`, after the prefix of the context the plugin is
   * registered in (fastify-plugin ignores register's own `prefix`). */
  prefix?: string
  /** A path (below `prefix`) that answers `app.serverPush.stats()` as JSON. Default: none. */
  statusPath?: string
  /** Push routes declared here rather than as Fastify routes with the `serverPush` option (from config, say). */
  routes?: PushRouteOptions[]
  /**
   * The path (below `prefix`) that serves the `<push-view>` script, the self-healing view of a push stream
   * (`<script src="/push-view.js"></script>`), or `false` for none. Default `/push-view.js`.
   */
  viewScript?: string | false
}

/** The routes one entry of `routes` declares: a push route, and a snapshot route if it has one. */
export interface DeclaredRoutes {
  readonly path: string
  readonly push: ServerPushRouteOption
  readonly snapshot?: { readonly path: string, readonly option: ServerPushSnapshotOption }
}

/** The plugin's options, checked: the defaults of every route, and what the plugin declares itself. */
export interface CheckedOptions {
  readonly defaults: CheckedSettings
  readonly statusPath: string | undefined
  readonly routes: readonly DeclaredRoutes[]
  readonly producerStopTimeoutMs: number
  readonly viewScript: string | undefined
}

const PLUGIN_KEYS = new Set([...SETTING_KEYS, 'prefix', 'statusPath', 'routes', 'producerStopTimeoutMs', 'viewScript'])
const ROUTE_OPTION_KEYS = new Set([...SETTING_KEYS, 'source'])
const ROUTES_KEYS = new Set([...ROUTE_OPTION_KEYS, 'path', 'snapshot', 'snapshotTimeoutMs'])
/** The `serverPushSnapshot` option has the core's keys, and none of its own. */
export const SNAPSHOT_OPTION_KEYS: ReadonlySet<string> = new Set(SNAPSHOT_KEYS)

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

/** Checks a `serverPush` route option (or a `routes` entry, with its keys); returns its own settings. */
export function checkRouteOption (where: string, option: unknown, known: ReadonlySet<string> = ROUTE_OPTION_KEYS): CheckedSettings {
  if (!isObject(option)) throw invalidOption(where, 'must be an object with a source')
  return checkPushOptions(where, option, known)
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
  const { viewScript = PUSH_VIEW_PATH } = options
  if (viewScript !== false && (typeof viewScript !== 'string' || !viewScript.startsWith('/'))) {
    throw invalidOption('options', `viewScript must be a path starting with "/", or false, got ${JSON.stringify(viewScript)}`)
  }
  const viewPath = viewScript === false ? undefined : prefix + viewScript
  if (viewPath !== undefined) claim(viewPath, 'options.viewScript')
  // Each entry gets the checks of the route options it declares, here to name it by its place in `routes`.
  const declared = routes.map((route: unknown, index): DeclaredRoutes => {
    let where = `routes[${index}]`
    if (!isObject(route)) throw invalidOption(where, 'must be an object with path and source')
    const path = prefix + checkPath(where, 'path', route.path)
    where += ` (${path})`
    claim(path, where)
    checkRouteOption(where, route, ROUTES_KEYS)
    // Checked: the entry is what its type says.
    const { path: _path, snapshot, snapshotTimeoutMs, ...push } = route as unknown as PushRouteOptions
    if (snapshot === undefined) {
      if (snapshotTimeoutMs !== undefined) throw invalidOption(where, 'snapshotTimeoutMs is set but snapshot is not')
      return { path, push }
    }
    const snapshotPath = prefix + checkPath(where, 'snapshot', snapshot)
    claim(snapshotPath, `${where}.snapshot`)
    const option = Object.fromEntries(SNAPSHOT_KEYS.filter((key) => key in route).map((key) => [key, route[key]]))
    const { source } = checkSnapshotOptions(where, option, SNAPSHOT_OPTION_KEYS, defaults)
    return { path, push, snapshot: { path: snapshotPath, option: { ...option, source } } }
  })
  const producerStopTimeoutMs = checkProducerStopTimeout('options', options)
  return { defaults, statusPath, routes: declared, producerStopTimeoutMs, viewScript: viewPath }
}
