// What the command serves, checked: the options of the command line over those of the config file, each camera
// with one source, every value of the right kind. The one check of both inputs, so that a key means the same in
// either and every mistake is one line naming where it is (`--max-fps`, or `cams.json: cameras[1].maxFps`).
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { isObject } from '../core/check.js'
import { MIN_KEY_BYTES } from '../core/signed-url.js'
import { flag, usage, type CommandLine } from './options.js'
import { RESERVED_NAMES } from './paths.js'

/** Where a camera's frames come from. */
export type CameraSource =
  | { readonly kind: 'dir', readonly path: string }
  | { readonly kind: 'command', readonly command: string }
  | { readonly kind: 'device', readonly path: string }
  | { readonly kind: 'relay', readonly url: string }
  | { readonly kind: 'redis', readonly url: string, readonly channel: string }
  | { readonly kind: 'ingest', readonly anonymous: boolean }

/** One camera the command serves. */
export interface CameraConfig {
  /** Its name: its paths' first segment when there are several, and its label in logs and metrics. */
  readonly name: string
  readonly source: CameraSource
  /** A Redis channel the source is published to, and shown from (`--publish`). */
  readonly publish: { readonly url: string, readonly channel: string } | undefined
  readonly intervalMs: number
  readonly maxFps: number | undefined
  readonly maxClients: number | undefined
}

/** Everything the command serves, and how. */
export interface CommandConfig {
  readonly port: number
  readonly host: string
  readonly tls: { readonly cert: Buffer, readonly key: Buffer } | undefined
  readonly user: { readonly username: string, readonly password: string } | undefined
  readonly signingKey: string | undefined
  readonly chunked: boolean
  readonly metrics: boolean
  readonly logLevel: string
  readonly cameras: readonly CameraConfig[]
}

const SOURCE_KEYS = ['dir', 'command', 'device', 'relay', 'redis', 'ingest'] as const
const CAMERA_KEYS = new Set([...SOURCE_KEYS, 'name', 'channel', 'publish', 'intervalMs', 'maxFps', 'maxClients'])
const SERVING_KEYS = new Set(['port', 'host', 'tlsCert', 'tlsKey', 'user', 'password', 'signingKey', 'intervalMs', 'maxFps', 'maxClients', 'chunked', 'metrics', 'logLevel'])
const FILE_KEYS = new Set([...SERVING_KEYS, 'cameras'])
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
/** A name is a path segment as it is: no character a URL or a shell would read otherwise. */
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
/** Keys whose values a message never shows: it goes to the terminal and the journal. */
const SECRETS = new Set(['password', 'signingKey'])
/** The longest wait a Node timer takes (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647

/** Names a key where the user wrote it. */
type Namer = (key: string) => string

/** A value as a message quotes it (JSON has no Infinity: 1e400 reads as one), a secret not at all. */
function got (key: string, value: unknown): string {
  if (SECRETS.has(key)) return ''
  return `, got ${typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}`
}

/** Reads the values of `input` by kind, naming a wrong one by `name`. */
class Reader {
  constructor (private readonly input: Readonly<Record<string, unknown>>, private readonly name: Namer) {}

  string (key: string): string | undefined {
    const value = this.input[key]
    if (value === undefined) return undefined
    if (typeof value !== 'string' || value === '') throw usage(`${this.name(key)} needs a non-empty text${got(key, value)}`)
    return value
  }

  boolean (key: string): boolean | undefined {
    const value = this.input[key]
    if (value !== undefined && typeof value !== 'boolean') throw usage(`${this.name(key)} must be true or false${got(key, value)}`)
    return value
  }

  /** A whole number from `min` to `max`. */
  integer (key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.input[key]
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw usage(`${this.name(key)} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}${got(key, value)}`)
    }
    return value
  }

  /** A number over 0. */
  positive (key: string): number | undefined {
    const value = this.input[key]
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw usage(`${this.name(key)} must be a number over 0${got(key, value)}`)
    return value
  }

  /** The keys given, each of which must be one of `known`. */
  keys (known: ReadonlySet<string>): void {
    for (const key of Object.keys(this.input)) {
      if (!known.has(key)) throw usage(`${this.name(key)} is not an option (${[...known].join(', ')})`)
    }
  }
}

function httpUrl (name: string, text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw usage(`${name} must be a URL, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`${name} must be an http: or https: URL, got ${JSON.stringify(text)}`)
  return text
}

function redisUrl (name: string, text: string): string {
  if (!/^rediss?:\/\/./.test(text)) throw usage(`${name} must be a redis:// or rediss:// URL, got ${JSON.stringify(text)}`)
  return text
}

/** The serving options' defaults for cameras: each camera's own win. */
interface CameraDefaults { readonly intervalMs: number | undefined, readonly maxFps: number | undefined, readonly maxClients: number | undefined }

function checkCamera (camera: unknown, name: Namer, defaults: CameraDefaults, defaultName: string | undefined): CameraConfig {
  if (!isObject(camera)) throw usage(`${name('')} must be an object with a name and a source`)
  const read = new Reader(camera, name)
  read.keys(CAMERA_KEYS)
  const given = SOURCE_KEYS.filter((key) => camera[key] !== undefined && camera[key] !== false)
  const redis = read.string('redis')
  const publish = read.boolean('publish') === true
  // Redis is a source of its own, or, with --publish, where another source goes before it is shown.
  const sources = publish ? given.filter((key) => key !== 'redis') : given
  if (sources.length !== 1) {
    // Keys listed as the user writes them inside the camera: --dir on the command line, dir in a file.
    const bare = (key: string): string => name(key).replace(`${name('')}.`, '')
    throw usage(sources.length === 0
      ? `${name('')} needs a source: ${SOURCE_KEYS.map(bare).join(', ')}`
      : `${name('')} has ${sources.length} sources (${sources.map(bare).join(', ')}); give one${given.includes('redis') ? `, and ${bare('publish')} to publish it to Redis` : ''}`)
  }
  const channel = read.string('channel')
  if ((redis === undefined) !== (channel === undefined)) throw usage(`${name(redis === undefined ? 'channel' : 'redis')} needs ${name(redis === undefined ? 'redis' : 'channel')}`)
  if (publish && redis === undefined) throw usage(`${name('publish')} needs ${name('redis')} and ${name('channel')}`)
  const cameraName = read.string('name') ?? defaultName
  if (cameraName === undefined) throw usage(`${name('name')} is missing: each camera of several needs one`)
  if (!NAME.test(cameraName) || RESERVED_NAMES.has(cameraName)) {
    throw usage(`${name('name')} must be lower-case letters, digits, - and _ (not ${[...RESERVED_NAMES].join(', ')}), got ${JSON.stringify(cameraName)}`)
  }
  const kind = sources[0] as (typeof SOURCE_KEYS)[number]
  let source: CameraSource
  if (kind === 'ingest') {
    const ingest = camera.ingest
    if (ingest !== true && ingest !== 'anonymous') throw usage(`${name('ingest')} must be true or "anonymous", got ${JSON.stringify(ingest)}`)
    source = { kind, anonymous: ingest === 'anonymous' }
  } else if (kind === 'redis') {
    source = { kind, url: redisUrl(name('redis'), redis as string), channel: channel as string }
  } else {
    const text = read.string(kind) as string
    source = kind === 'relay' ? { kind, url: httpUrl(name(kind), text) } : kind === 'command' ? { kind, command: text } : { kind, path: text }
  }
  return {
    name: cameraName,
    source,
    publish: publish ? { url: redisUrl(name('redis'), redis as string), channel: channel as string } : undefined,
    intervalMs: read.integer('intervalMs', 1, MAX_TIMER_MS) ?? defaults.intervalMs ?? 1000,
    maxFps: read.positive('maxFps') ?? defaults.maxFps,
    maxClients: read.integer('maxClients', 1) ?? defaults.maxClients
  }
}

/** The config file's contents: a JSON object; a file that cannot be read or parsed is named with the reason. */
function readConfigFile (path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw usage(`cannot read the config file ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw usage(`the config file ${path} is not JSON: ${(err as Error).message}`)
  }
  if (!isObject(parsed)) throw usage(`the config file ${path} must hold a JSON object`)
  return parsed
}

function readPem (name: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw usage(`cannot read ${name} ${path}: ${(err as Error).message}`)
  }
}

/** The TLS files read, and tried together, so that a wrong one is an option error before anything starts. */
function checkTls (certPath: string | undefined, keyPath: string | undefined, name: Namer): CommandConfig['tls'] {
  if (certPath === undefined && keyPath === undefined) return undefined
  if (certPath === undefined || keyPath === undefined) throw usage(`${name(certPath === undefined ? 'tlsKey' : 'tlsCert')} needs ${name(certPath === undefined ? 'tlsCert' : 'tlsKey')}`)
  const tls = { cert: readPem(name('tlsCert'), certPath), key: readPem(name('tlsKey'), keyPath) }
  try {
    createSecureContext(tls)
  } catch (err) {
    throw usage(`${name('tlsCert')} and ${name('tlsKey')} are not a PEM certificate and its key: ${(err as Error).message}`)
  }
  return tls
}

/**
 * The command's config: the command line's options over the config file's, the password and signing key from the
 * environment when neither gives them. Throws FST_SERVER_PUSH_COMMAND_USAGE for the first mistake.
 */
export function checkConfig (line: Extract<CommandLine, { kind: 'serve' }>, env: NodeJS.ProcessEnv): CommandConfig {
  const { configFile } = line
  const file = configFile === undefined ? {} : readConfigFile(configFile)
  const inFile: Namer = (key) => `${configFile}: ${key}`
  new Reader(file, inFile).keys(FILE_KEYS)
  // Secrets kept out of the process list; set but empty is not set.
  const fromEnv = (name: string): string | undefined => env[name] === '' ? undefined : env[name]
  // Each value is checked where it was given, so that its message names it there.
  const fileReader = new Reader(file, inFile)
  const lineReader = new Reader(line.serving, flag)
  const pick = <T>(read: (reader: Reader) => T | undefined): T | undefined => read(lineReader) ?? read(fileReader)
  // A key is named as the user gave it, or as an option when it was not given.
  const where = (key: string): string => line.serving[key] === undefined && file[key] !== undefined ? inFile(key) : flag(key)
  const username = pick((r) => r.string('user'))
  // A password in the environment with no user would leave the server open, its operator believing otherwise.
  if (username === undefined && fromEnv('SERVER_PUSH_PASSWORD') !== undefined) throw usage(`SERVER_PUSH_PASSWORD is set but no user is: give ${where('user')}, or unset it`)
  const password = pick((r) => r.string('password')) ?? fromEnv('SERVER_PUSH_PASSWORD')
  if ((username === undefined) !== (password === undefined)) {
    throw usage(username === undefined ? `${where('password')} needs ${where('user')}` : `${where('user')} needs ${where('password')} (or SERVER_PUSH_PASSWORD)`)
  }
  if (username?.includes(':') === true) throw usage(`${where('user')} must not hold ":", got ${JSON.stringify(username)}`)
  const signingKey = pick((r) => r.string('signingKey')) ?? fromEnv('SERVER_PUSH_SIGNING_KEY')
  if (signingKey !== undefined && Buffer.byteLength(signingKey) < MIN_KEY_BYTES) {
    throw usage(`the signing key must be ${MIN_KEY_BYTES} bytes or more (openssl rand -base64 32)`)
  }
  const logLevel = pick((r) => r.string('logLevel')) ?? 'info'
  if (!LOG_LEVELS.has(logLevel)) throw usage(`${where('logLevel')} must be one of ${[...LOG_LEVELS].join(', ')}, got ${JSON.stringify(logLevel)}`)
  const defaults: CameraDefaults = {
    intervalMs: pick((r) => r.integer('intervalMs', 1, MAX_TIMER_MS)),
    maxFps: pick((r) => r.positive('maxFps')),
    maxClients: pick((r) => r.integer('maxClients', 1))
  }
  const fileCameras = file.cameras
  let cameras: CameraConfig[]
  if (line.camera !== undefined) {
    if (fileCameras !== undefined) throw usage(`${inFile('cameras')} and a source on the command line: give the cameras in one place`)
    cameras = [checkCamera(line.camera, (key) => key === '' ? 'the command line' : flag(key), defaults, 'camera')]
  } else if (fileCameras !== undefined) {
    if (!Array.isArray(fileCameras) || fileCameras.length === 0) throw usage(`${inFile('cameras')} must be a list of one camera or more`)
    cameras = fileCameras.map((camera, index) => {
      const where = `${configFile}: cameras[${index}]`
      return checkCamera(camera, (key) => key === '' ? where : `${where}.${key}`, defaults, fileCameras.length === 1 ? 'camera' : undefined)
    })
    const names = new Set<string>()
    for (const { name } of cameras) {
      if (names.has(name)) throw usage(`${configFile}: two cameras are named ${JSON.stringify(name)}`)
      names.add(name)
    }
  } else {
    throw usage('nothing to serve: give a source (--dir, --command, --device, --relay, --redis, --ingest) or --config (see --help)')
  }
  const anonymous = cameras.find(({ source }) => source.kind === 'ingest' && !source.anonymous)
  if (anonymous !== undefined && username === undefined) {
    throw usage(`the ingest of camera ${JSON.stringify(anonymous.name)} needs --user and --password (publishers authenticate), or --allow-anonymous-ingest ("ingest": "anonymous") to let anyone publish`)
  }
  return {
    port: pick((r) => r.integer('port', 0, 65535)) ?? 8080,
    host: pick((r) => r.string('host')) ?? '127.0.0.1',
    tls: checkTls(pick((r) => r.string('tlsCert')), pick((r) => r.string('tlsKey')), where),
    user: username === undefined || password === undefined ? undefined : { username, password },
    signingKey,
    chunked: pick((r) => r.boolean('chunked')) ?? false,
    metrics: pick((r) => r.boolean('metrics')) ?? false,
    logLevel,
    cameras
  }
}
