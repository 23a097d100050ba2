// Each camera of the command as a live source, by the kind of its source: the one place the command tells them
// apart. Every camera is live (read once for all its viewers, its latest frame a snapshot), a folder of files too.
import { setTimeout as sleep } from 'node:timers/promises'
import type { FrameObject } from '../core/frame.js'
import type { IngestAuth } from '../core/ingest-route.js'
import { liveFrom } from '../core/live/producer.js'
import { createLiveSource, type LiveSource } from '../core/live/source.js'
import type { Logger } from '../core/logger.js'
import { fromCommand, maskCredentials } from '../core/sources/command.js'
import { fromDirectory } from '../core/sources/files.js'
import { relay } from '../core/sources/relay.js'
import type { CameraConfig, CameraSource } from './config.js'
import { optional } from './optional.js'
import { usage } from './options.js'

/** A camera made ready to serve. */
export interface Camera {
  readonly config: CameraConfig
  /** What its routes show. */
  readonly source: LiveSource
  /** Who may publish to it, for an ingest camera. */
  readonly ingest: IngestAuth | undefined
  /** Stops what the camera runs outside its routes (a Redis publisher). */
  close (): Promise<void>
}

/** The command a V4L2 device is read with: its own MJPEG passed through, not encoded again. */
export function deviceCommand (path: string): string[] {
  return ['ffmpeg', '-f', 'v4l2', '-input_format', 'mjpeg', '-i', path, '-c:v', 'copy', '-f', 'mjpeg', '-']
}

/** A command line as one log field: each argument quoted only when it needs to be. */
function shown (argv: readonly string[]): string {
  return argv.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`).join(' ')
}

/** The files of a folder, read once, shown in turn while someone watches. */
async function folder (path: string, { name, intervalMs, maxFps }: CameraConfig): Promise<LiveSource> {
  let frames: FrameObject[]
  try {
    frames = await fromDirectory(path).load()
  } catch (err) {
    throw usage(`camera ${JSON.stringify(name)}: ${(err as Error).message}`)
  }
  return liveFrom(async function * ({ signal }) {
    for (let i = 0; !signal.aborted; i++) {
      yield frames[i % frames.length] as FrameObject
      await sleep(intervalMs, undefined, { signal }).catch(() => {})
    }
  }, { maxFps })
}

/** Loads the Redis entry, which needs @redis/client (an optional peer dependency). */
export async function loadRedis (): Promise<typeof import('../redis.js')> {
  return await optional(async () => await import('../redis.js'), '--redis', '@redis/client')
}

/** The source a camera's kind makes, and the command it runs, if any, for the log. */
async function sourceOf (source: Exclude<CameraSource, { kind: 'redis' }>, config: CameraConfig): Promise<{ source: LiveSource, argv?: string[] }> {
  const { maxFps } = config
  switch (source.kind) {
    case 'dir':
      return { source: await folder(source.path, config) }
    case 'command': {
      const argv = ['/bin/sh', '-c', source.command]
      return { source: fromCommand('/bin/sh', argv.slice(1), { maxFps }), argv }
    }
    case 'device': {
      const [command, ...args] = deviceCommand(source.path)
      return { source: fromCommand(command as string, args, { maxFps }), argv: deviceCommand(source.path) }
    }
    case 'relay':
      return { source: relay(source.url, { maxFps }) }
    case 'ingest':
      return { source: createLiveSource({ maxFps }) }
  }
}

/**
 * Makes a camera's source; a camera that publishes to Redis is shown from Redis, as every other instance shows it.
 * Throws FST_SERVER_PUSH_COMMAND_USAGE for what the config could not say wrong before (a folder with no pictures).
 */
export async function openCamera (config: CameraConfig, user: { username: string, password: string } | undefined, log: Logger): Promise<Camera> {
  const { source: kind, publish, maxFps } = config
  const ingest = kind.kind !== 'ingest' ? undefined : kind.anonymous ? 'anonymous' : user
  if (kind.kind === 'redis') {
    const { redisSource } = await loadRedis()
    return { config, source: redisSource({ url: kind.url, channel: kind.channel, maxFps }), ingest, close: async () => {} }
  }
  const { source, argv } = await sourceOf(kind, config)
  if (argv !== undefined) log.info({ camera: config.name, command: maskCredentials(shown(argv)) }, 'server push command')
  if (publish === undefined) return { config, source, ingest, close: async () => await source.close() }
  const { publishToRedis, redisSource } = await loadRedis()
  const publisher = publishToRedis(source, publish)
  return {
    config,
    source: redisSource({ ...publish, maxFps }),
    ingest,
    close: async () => {
      await publisher.close()
      await source.close()
    }
  }
}
