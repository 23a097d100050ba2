// The command line: which options there are, what kind of value each takes, and what the arguments ask for (the
// manual, the version, or a server). Values come out as a config file would give them (camelCase keys, numbers as
// numbers), so that one check (config.ts) reads both.
import { parseArgs } from 'node:util'
import { FST_SERVER_PUSH_COMMAND_USAGE } from '../core/errors.js'

type Kind = 'string' | 'number' | 'boolean'

/** Every option, by its long name, and the kind of value it takes. */
const OPTIONS = {
  config: 'string',
  name: 'string',
  dir: 'string',
  command: 'string',
  device: 'string',
  relay: 'string',
  redis: 'string',
  channel: 'string',
  publish: 'boolean',
  ingest: 'boolean',
  'allow-anonymous-ingest': 'boolean',
  port: 'number',
  host: 'string',
  'tls-cert': 'string',
  'tls-key': 'string',
  user: 'string',
  password: 'string',
  'signing-key': 'string',
  'interval-ms': 'number',
  'max-fps': 'number',
  'max-clients': 'number',
  chunked: 'boolean',
  metrics: 'boolean',
  'log-level': 'string',
  help: 'boolean',
  version: 'boolean'
} as const satisfies Record<string, Kind>

const KINDS: ReadonlyMap<string, Kind> = new Map(Object.entries(OPTIONS))

/** The options that name a camera's source or shape the one camera of the command line. */
const CAMERA_OPTIONS: ReadonlySet<string> = new Set(['name', 'dir', 'command', 'device', 'relay', 'redis', 'channel', 'publish', 'ingest', 'allow-anonymous-ingest'])

/** What the arguments ask for. */
export type CommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | {
    readonly kind: 'serve'
    /** The config file's path, if given. */
    readonly configFile: string | undefined
    /** The serving options given, as a config file's top level would have them. */
    readonly serving: Readonly<Record<string, unknown>>
    /** The camera the options describe, as a config file's camera; undefined when no camera option was given. */
    readonly camera: Readonly<Record<string, unknown>> | undefined
  }

/** How an option is named in a message: as the user typed it. */
export function flag (key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
}

function camelCase (name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

/** The command's error for a mistake in what it was given: one line, exit status 2. */
export function usage (message: string): Error {
  return new FST_SERVER_PUSH_COMMAND_USAGE(message)
}

/** A number option's value: the whole text a number, or the option is wrong. */
function numberOf (name: string, text: string): number {
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(text)) throw usage(`--${name} needs a number, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** Reads the arguments (without node and the script); throws FST_SERVER_PUSH_COMMAND_USAGE for any it cannot take. */
export function parseCommandLine (args: readonly string[]): CommandLine {
  let parsed
  try {
    const options = Object.fromEntries(Object.entries(OPTIONS).map(([name, kind]) => [name, { type: kind === 'boolean' ? 'boolean' : 'string' } as const]))
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: false, tokens: true })
  } catch (err) {
    // Node's message names the option, then ends with advice on how to write a value starting with a dash, which
    // is rarely what went wrong (a value forgotten, an option misspelt).
    throw usage((err as Error).message.replace(/[\s.]*To specify .*$/s, '').replace(/\s+/g, ' '))
  }
  const { values, tokens } = parsed
  // Given twice, an option would silently be its last value: a port or a source the user did not mean.
  const seen = new Set<string>()
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    if (seen.has(token.name)) throw usage(`--${token.name} is given twice`)
    seen.add(token.name)
  }
  if (values.help === true) return { kind: 'help' }
  if (values.version === true) return { kind: 'version' }
  const serving: Record<string, unknown> = {}
  const camera: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(values)) {
    const typed = KINDS.get(name) === 'number' && typeof value === 'string' ? numberOf(name, value) : value
    if (CAMERA_OPTIONS.has(name)) camera[camelCase(name)] = typed
    else if (name !== 'config') serving[camelCase(name)] = typed
  }
  const { allowAnonymousIngest, ...given } = camera
  if (allowAnonymousIngest === true) {
    if (given.ingest !== true) throw usage('--allow-anonymous-ingest goes with --ingest')
    given.ingest = 'anonymous'
  }
  return {
    kind: 'serve',
    configFile: typeof values.config === 'string' ? values.config : undefined,
    serving,
    camera: Object.keys(given).length === 0 ? undefined : given
  }
}
