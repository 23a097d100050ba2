// The example app as `npm start` runs it, and its Express twin: viewer page, cycling thumbnails, HTML clock,
// live camera, clean shutdown.
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import { spawnSync, type ChildProcess } from 'node:child_process'
import t, { type Test } from 'tap'
import { eventually } from './helpers/app.js'
import { plainEnv, startChild } from './helpers/child.js'
import { certificate, connect, request, type H2Response } from './helpers/protocols.js'
import { startRedis } from './helpers/redis.js'
import { RawClient, type ParsedPart } from './helpers/wire-client.js'

/** Starts the example app as `npm start` does (or its Express twin), on a free port; killed at the end of `t`. */
async function exampleApp (t: Test, env: Record<string, string> = {}, script = 'server.js'): Promise<{ child: ChildProcess, port: number, output: () => string }> {
  const { child, match, output } = await startChild(process.execPath, [`example-app/${script}`],
    /Server listening at https?:\/\/127\.0\.0\.1:(\d+)/, plainEnv({ PORT: '0', HOST: '127.0.0.1', ...env }))
  t.teardown(() => { child.kill('SIGKILL') })
  return { child, port: Number(match[1]), output }
}

for (const script of ['server.js', 'express.js']) {
  t.test(`example app: ${script}`, async (t) => {
    const { child, port, output } = await exampleApp(t, {}, script)
    t.match(output(), /"camera":"ffmpeg testsrc2".*"msg":"live route ready"/, 'with ffmpeg on the PATH, the live route is its test pattern')

    const page = await fetch(`http://127.0.0.1:${port}/`)
    t.equal(page.status, 200)
    const html = await page.text()
    t.match(html, /<push-view id="video" src="\/video\.mjpg"/)
    t.match(html, /<script src="\/push-view\.js"><\/script>/)
    const viewScript = await fetch(`http://127.0.0.1:${port}/push-view.js`)
    t.equal(viewScript.headers.get('content-type'), 'text/javascript; charset=utf-8', 'the page\'s <push-view> script is served')
    t.match(await viewScript.text(), /customElements\.define\('push-view'/)
    t.match(html, /<iframe id="clock" src="\/clock"/)
    t.equal(await (await fetch(`http://127.0.0.1:${port}/signed-url?path=/live.mjpg`)).text(), '/live.mjpg', 'without SIGNING_KEY, the views\' refresh-src answers the path as it is')

    const video = await RawClient.get(port, '/video.mjpg')
    const clock = await RawClient.get(port, '/clock')
    const frames = (await video.parts(2)).multipart.parts
    for (const [i, part] of frames.slice(0, 2).entries()) {
      const thumb = readFileSync(new URL(`../example-app/frames/thumb_${i + 1}.jpg`, import.meta.url))
      t.ok(part.body.equals(thumb), `part ${i + 1} is thumb_${i + 1}.jpg`)
      t.equal(part.headers['content-type'], 'image/jpeg')
    }
    const ticks = (await clock.parts(2)).multipart.parts.slice(0, 2)
    const times = ticks.map((part) => /<h3>([^<]+)<\/h3>/.exec(part.body.toString())?.[1] ?? '')
    t.ok(ticks.every((part) => part.headers['content-type'] === 'text/html; charset=utf-8'))
    t.ok(Date.parse(times[1] as string) > Date.parse(times[0] as string), `the clock ticks: ${times.join(' -> ')}`)

    t.match(html, /<push-view id="live" src="\/live\.mjpg"/)
    const live = await RawClient.get(port, '/live.mjpg')
    const liveParts = (await live.parts(3)).multipart.parts.slice(0, 3)
    t.ok(liveParts.every((part) => part.body[0] === 0xff && part.body[1] === 0xd8), 'the live route streams JPEGs')
    t.match(liveParts[0]?.headers['x-timestamp'], /^\d+\.\d{6}$/)
    const snapshot = await fetch(`http://127.0.0.1:${port}/live.jpg`)
    t.equal(snapshot.headers.get('content-type'), 'image/jpeg')
    t.equal(Buffer.from(await snapshot.arrayBuffer())[0], 0xff)
    const status = await (await fetch(`http://127.0.0.1:${port}/push-status`)).json() as Record<string, { viewers: number }>
    t.equal(status['/live.mjpg']?.viewers, 1)
    t.equal(status['/video.mjpg']?.viewers, 1)
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
    t.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
    t.match(await metrics.text(), /^fastify_server_push_viewers\{route="\/live\.mjpg"\} 1$/m, 'GET /metrics: Prometheus text, the viewers counted')

    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    t.equal(code, 0, 'SIGTERM closes the app cleanly')
    t.ok((await video.end()).multipart.closed, 'open streams end with the close delimiter')
    t.ok((await clock.end()).multipart.closed)
    t.ok((await live.end()).multipart.closed)
    // Its log of the lifecycle events: the live viewer came from 127.0.0.1, and left as the app closed.
    const logged = output().split('\n').filter((line) => line.includes('"msg":"server push ')).map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>)
    t.match(logged.find((line) => line.event === 'viewer:open' && line.route === '/live.mjpg'), { address: '127.0.0.1', protocol: 1 })
    t.match(logged.find((line) => line.event === 'viewer:close' && line.route === '/live.mjpg'), { reason: 'server-closing' })
    t.match(logged.find((line) => line.event === 'source:start'), { route: '/live.mjpg' })
  })
}

t.test('example app without ffmpeg on the PATH: the live route falls back to the built-in frames', async (t) => {
  const { port, output } = await exampleApp(t, { PATH: '/nonexistent' })
  t.match(output(), /"camera":"built-in frames"/)
  const live = await RawClient.get(port, '/live.mjpg')
  const [part] = (await live.parts(1)).multipart.parts
  t.ok(part?.body.equals(readFileSync(new URL('../example-app/frames/thumb_1.jpg', import.meta.url))), 'the first thumbnail')
  live.destroy()
})

t.test('a second example app relays the first one\'s live route: many viewers, one upstream connection', async (t) => {
  const first = await exampleApp(t)
  const second = await exampleApp(t, { RELAY: `http://127.0.0.1:${first.port}/live.mjpg` })
  const viewers = await Promise.all([1, 2, 3, 4].map(() => RawClient.get(second.port, '/relay.mjpg')))
  for (const viewer of viewers) {
    const parts = (await viewer.parts(2)).multipart.parts
    t.ok(parts.every((part) => part.body[0] === 0xff && part.body[1] === 0xd8 && part.headers['content-type'] === 'image/jpeg'), 'JPEG frames')
  }
  const status = await (await fetch(`http://127.0.0.1:${first.port}/push-status`)).json() as Record<string, { viewers: number }>
  t.equal(status['/live.mjpg']?.viewers, 1, 'four viewers of the relay, one viewer of the first app')
  for (const viewer of viewers) viewer.destroy()
})

t.test('example app with TLS_CERT and TLS_KEY: HTTPS, with HTTP/2 and HTTP/1.1 on one port, and the wall page', async (t) => {
  const { certPath, keyPath, cert } = certificate()
  const { port, output } = await exampleApp(t, { TLS_CERT: certPath, TLS_KEY: keyPath })
  t.match(output(), /Server listening at https:\/\/127\.0\.0\.1:/)
  const session = connect(t, `https://127.0.0.1:${port}`)
  const [video, live, wall] = await Promise.all([request(session, '/video.mjpg'), request(session, '/live.mjpg?view=1'), request(session, '/wall.html')])
  t.match(video.headers['content-type'], /^multipart\/x-mixed-replace;boundary=/)
  // Each route has its own boundary.
  const parts = (response: H2Response): ParsedPart[] => response.parts(/boundary=(.+)$/.exec(String(response.headers['content-type']))?.[1]).parts
  await eventually(() => parts(video).length >= 1 && parts(live).length >= 1, 'a part of each stream over HTTP/2')
  t.ok(parts(video)[0]?.body.equals(readFileSync(new URL('../example-app/frames/thumb_1.jpg', import.meta.url))), 'thumb_1.jpg')
  t.equal(parts(live)[0]?.body[0], 0xff, 'a JPEG from the live route')
  await wall.ended
  t.equal(wall.body().toString().match(/<push-view id="cam\d+" alt="Camera view \d+" show-age src="\/live\.mjpg\?view=\d+"/g)?.length, 12, 'the wall page: twelve views of the live route')
  const http1 = await new Promise<IncomingMessage>((resolve, reject) => {
    https.get(`https://127.0.0.1:${port}/live.jpg`, { ca: cert }, resolve).on('error', reject)
  })
  t.equal(http1.httpVersion, '1.1', 'and HTTP/1.1 on the same port')
  t.equal(http1.headers['content-type'], 'image/jpeg')
  http1.resume()
})

t.test('example apps with REDIS_URL: the Fastify and the Express app show one camera, run in one of them, through Redis', async (t) => {
  const redis = await startRedis(t)
  const instances = [await exampleApp(t, { REDIS_URL: redis.url }), await exampleApp(t, { REDIS_URL: redis.url }, 'express.js')]
  for (const { output } of instances) t.match(output(), /"redis":true.*"msg":"live route ready"/)
  const viewers = await Promise.all(instances.map(({ port }) => RawClient.get(port, '/live.mjpg')))
  const seen = await Promise.all(viewers.map(async (viewer) => (await viewer.parts(10)).multipart.parts))
  for (const parts of seen) t.ok(parts.every((part) => part.body[0] === 0xff && part.body[1] === 0xd8 && part.headers['content-type'] === 'image/jpeg'), 'JPEG frames')
  const stamps = seen.map((parts) => new Set(parts.map((part) => part.headers['x-timestamp'])))
  t.ok([...(stamps[0] as Set<string>)].some((stamp) => stamps[1]?.has(stamp)), 'the same frames, with the same X-Timestamp, on both')
  const cameras = instances.map(({ child }) => spawnSync('pgrep', ['-P', String(child.pid), '-x', 'ffmpeg']).stdout.toString().trim().split('\n').filter(Boolean).length)
  t.equal(cameras[0] as number + (cameras[1] as number), 1, `one ffmpeg in all (${cameras.join(' + ')})`)
  for (const viewer of viewers) viewer.destroy()
})

for (const script of ['server.js', 'express.js']) {
  t.test(`example app (${script}) with SIGNING_KEY: unsigned streams and snapshots refused 403, the pages' signed URLs served`, async (t) => {
    const key = 'an example secret, at least 32 bytes long'
    const { port, output } = await exampleApp(t, { SIGNING_KEY: key }, script)
    t.match(output(), /"signed":true.*"msg":"live route ready"/)
    const origin = `http://127.0.0.1:${port}`
    for (const path of ['/video.mjpg', '/clock', '/live.mjpg', '/live.jpg']) {
      const refused = await fetch(`${origin}${path}`)
      t.equal(refused.status, 403, `${path} unsigned: 403`)
      t.match(await refused.json(), { code: 'FST_SERVER_PUSH_BAD_SIGNATURE' })
    }
    // The URLs each page came with, as the browser reads them out of the attributes.
    const urls = async (page: string): Promise<Record<string, string>> => {
      const html = await (await fetch(`${origin}${page}`)).text()
      return Object.fromEntries([...html.matchAll(/id="(\w+)"[^>]*? src="([^"]+)"/g)].map(([, id, src]) => [id, (src as string).replaceAll('&amp;', '&')]))
    }
    const index = await urls('/')
    t.match(index, { video: /^\/video\.mjpg\?expires=\d+&signature=[\w-]{43}$/, live: /^\/live\.mjpg\?expires=/, clock: /^\/clock\?expires=/, snapshot: /^\/live\.jpg\?expires=/ }, 'the index page\'s URLs are signed')
    const wall = await urls('/wall.html')
    t.equal(Object.keys(wall).length, 12)
    t.match(wall.cam7, /^\/live\.mjpg\?view=7&expires=\d+&signature=[\w-]{43}$/, 'and the wall\'s')
    const video = await RawClient.get(port, index.video as string)
    t.ok((await video.parts(1)).multipart.parts[0]?.body.equals(readFileSync(new URL('../example-app/frames/thumb_1.jpg', import.meta.url))), 'the page\'s /video.mjpg URL streams')
    video.destroy()
    const live = await RawClient.get(port, wall.cam7 as string)
    t.equal((await live.parts(1)).multipart.parts[0]?.body[0], 0xff, 'the wall\'s URL streams the live camera')
    live.destroy()
    const snapshot = await fetch(`${origin}${index.snapshot as string}`)
    t.equal(snapshot.headers.get('content-type'), 'image/jpeg', 'the page\'s snapshot URL answers a JPEG')
    // What a view's refresh-src gets: a fresh URL of the app's own routes, and nothing for another path.
    const fresh = await (await fetch(`${origin}/signed-url?path=${encodeURIComponent('/live.mjpg?view=3')}`)).text()
    t.match(fresh, /^\/live\.mjpg\?view=3&expires=\d+&signature=[\w-]{43}$/)
    t.equal((await fetch(`${origin}${fresh.replace('/live.mjpg', '/clock')}`)).status, 403, 'a signature for /live.mjpg does not open /clock')
    t.equal((await fetch(`${origin}/signed-url?path=/push-status`)).status, 400)
    t.notOk(output().includes(key), 'the key is in no log line')
  })
}
