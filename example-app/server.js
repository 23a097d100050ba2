// The classic server-push demo on Fastify: ten thumbnails cycled once a second, a live HTML clock (which
// Chromium, unable to show pushed HTML itself, gets through the plugin's reader page), and a live route whose
// producer runs only while someone watches: ffmpeg's test pattern when ffmpeg is on the PATH, else a stand-in
// camera cycling the thumbnails. Run it with `npm start`; PORT and HOST choose where it listens (default
// 127.0.0.1:3000), and RELAY=<an MJPEG URL> adds /relay.mjpg, which relays that stream to any number of viewers
// over one upstream connection.
import { spawnSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import fastifyStatic from '@fastify/static'
import serverPush, { fromCommand, fromDirectory, liveFrom, relay } from 'fastify-server-push'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

const clockPage = () => `<!doctype html>
<html><head><meta charset="utf-8"><title>Server push clock</title></head>
<body><h3>${new Date().toISOString()}</h3><p>Each second the server pushes this page again.</p></body></html>`

// The live route's camera, started for the first viewer and stopped two seconds after the last one has gone.
// With ffmpeg: its testsrc2 clock at 15 frames per second, read as JPEGs from its stdout.
const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0
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
const camera = hasFfmpeg ? ffmpegCamera() : await standInCamera()

const app = Fastify({ logger: true })
await app.register(fastifyStatic, { root: here('./public') })
await app.register(serverPush, {
  statusPath: '/push-status',
  routes: [
    { path: '/video.mjpg', source: fromDirectory(here('./frames')), intervalMs: 1000, contentType: 'image/jpeg' },
    { path: '/clock', source: clockPage, intervalMs: 1000, contentType: 'text/html; charset=utf-8' },
    { path: '/live.mjpg', source: camera, snapshot: '/live.jpg', contentType: 'image/jpeg', maxClients: 100 },
    ...(process.env.RELAY ? [{ path: '/relay.mjpg', source: relay(process.env.RELAY, { lingerMs: 2000 }) }] : [])
  ]
})
app.log.info({ camera: hasFfmpeg ? 'ffmpeg testsrc2' : 'built-in frames', relay: process.env.RELAY !== undefined }, 'live route ready')

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.log.info({ signal }, 'closing')
    app.close().then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'close failed')
      process.exit(1)
    })
  })
}

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
