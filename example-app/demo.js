// What both example servers show, whatever the framework: ten thumbnails cycled once a second, a live HTML clock,
// and a live camera whose producer runs only while someone watches: ffmpeg's test pattern when ffmpeg is on the
// PATH, else a stand-in camera cycling the thumbnails. RELAY=<an MJPEG URL> adds a relay of that stream.
// REDIS_URL=redis://host:6379 makes the app one instance of many: every instance publishes its camera to Redis
// and shows /live.mjpg from there, and the camera runs in one instance only, while any instance has a viewer.
// SIGNING_KEY=<a secret of at least 32 bytes> makes every stream and snapshot route require a signed URL (403
// without one): the pages are served with URLs signed for a minute, and their views get fresh ones from
// /signed-url each time they reconnect (refresh-src).
import { spawnSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { EVENT_NAMES, fromCommand, fromDirectory, liveFrom, relay, signUrl, subscribeEvent } from 'fastify-server-push/node'

export const here = (path) => fileURLToPath(new URL(path, import.meta.url))

export const clockPage = () => `<!doctype html>
<html><head><meta charset="utf-8"><title>Server push clock</title></head>
<body><h3>${new Date().toISOString()}</h3><p>Each second the server pushes this page again.</p></body></html>`

// The live route's camera, started for the first viewer and stopped two seconds after the last one has gone.
// With ffmpeg: its testsrc2 clock at 15 frames per second, read as JPEGs from its stdout.
export const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0
const ffmpegCamera = () => fromCommand('ffmpeg', ['-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi',
  '-i', 'testsrc2=size=320x240:rate=15', '-f', 'mjpeg', '-q:v', '5', '-'], { lingerMs: 2000 })
// Without: a stand-in that "captures" the thumbnails at 5 frames per second (the finally block runs on stop).
const standInCamera = async () => {
  const names = (await readdir(here('./frames'))).filter((name) => name.endsWith('.jpg'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  const thumbnails = await Promise.all(names.map((name) => readFile(here(`./frames/${name}`))))
  return liveFrom(async function * ({ signal, log }) {
    log.info('camera started')
    try {
      for (let i = 0; !signal.aborted; i++) {
        yield thumbnails[i % thumbnails.length]
        await sleep(200, undefined, { signal }).catch(() => {})
      }
    } finally {
      log.info('camera stopped')
    }
  }, { lingerMs: 2000 })
}
export const camera = hasFfmpeg ? ffmpegCamera() : await standInCamera()

// Loaded only when asked for: an app that does not share its camera does not load a Redis client.
const { REDIS_URL } = process.env
const redis = REDIS_URL ? await import('fastify-server-push/redis') : undefined
const publisher = redis?.publishToRedis(camera, { url: REDIS_URL, channel: 'live' })
const live = redis?.redisSource({ url: REDIS_URL, channel: 'live' }) ?? camera

/** The push routes, by path, as either server declares them; `snapshot` is the live route's still image. */
export const routes = [
  { path: '/video.mjpg', source: fromDirectory(here('./frames')), intervalMs: 1000, contentType: 'image/jpeg' },
  { path: '/clock', source: clockPage, intervalMs: 1000, contentType: 'text/html; charset=utf-8' },
  { path: '/live.mjpg', source: live, snapshot: '/live.jpg', contentType: 'image/jpeg', maxClients: 100 },
  ...(process.env.RELAY ? [{ path: '/relay.mjpg', source: relay(process.env.RELAY, { lingerMs: 2000 }) }] : [])
]

/** The key every stream and snapshot route requires its URLs signed with, or undefined for none. */
export const signingKey = process.env.SIGNING_KEY || undefined

// The app's stream and snapshot paths: the only ones /signed-url signs.
const signable = new Set(routes.flatMap(({ path, snapshot }) => snapshot === undefined ? [path] : [path, snapshot]))

/**
 * What /signed-url answers for `path` (one of the app's routes, with any query): the URL signed for a minute, or
 * `path` as it is when the app requires no signature; undefined for any other path. A real app would first check
 * that the viewer may watch (its session cookie): this URL hands out access.
 */
export function signedUrl (path) {
  if (typeof path !== 'string' || !signable.has(path.split('?')[0])) return undefined
  return signingKey === undefined ? path : signUrl(path, { key: signingKey, expiresIn: 60 })
}

/** A page of public/ with the URLs of its streams, snapshots and links to them signed, for SIGNING_KEY. */
export async function signedPage (name) {
  const html = await readFile(here(`./public/${name}`), 'utf8')
  return html.replace(/(?<![-\w])(src|href)="([^"]*)"/g, (attribute, name, url) => {
    const signed = signedUrl(url.replaceAll('&amp;', '&'))
    return signed === undefined ? attribute : `${name}="${signed.replaceAll('&', '&amp;')}"`
  })
}

export const ready = { camera: hasFfmpeg ? 'ffmpeg testsrc2' : 'built-in frames', relay: process.env.RELAY !== undefined, redis: redis !== undefined, signed: signingKey !== undefined }

/** Runs `close` on SIGINT and SIGTERM (and gives up the camera to the other instances), then exits. */
export function closeOnSignals (log, close) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log.info({ signal }, 'closing')
      close().then(() => publisher?.close()).then(() => process.exit(0), (err) => {
        log.error({ err }, 'close failed')
        process.exit(1)
      })
    })
  }
}

/**
 * Logs the package's lifecycle events, one line each (every one but part:send, which comes with every frame):
 * a source gone offline as a warning, the rest as information; the viewer's address instead of its request.
 */
export function logEvents (log) {
  for (const name of EVENT_NAMES) {
    if (name === 'fastify-server-push:part:send') continue
    const event = name.replace('fastify-server-push:', '')
    subscribeEvent(name, ({ request, source, stats, error, ...fields }) => {
      const line = { event, ...fields, ...(request && { address: request.socket.remoteAddress }), ...(error && { err: error }) }
      if (event === 'source:offline' || event === 'source:fail') log.warn(line, `server push ${event}`)
      else log.info(line, `server push ${event}`)
    })
  }
}
