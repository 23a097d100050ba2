// <push-view refresh-src> in real browsers: a view whose signed URL expires keeps painting, each stream the server
// ends (maxStreamMs) opened again on a fresh URL that the page's own endpoint signs. Whether its first stream came
// before or after the page's URL expired does not matter: either way the view must come back through refresh-src.
import { createHmac, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import t from 'tap'
import serverPush, { createLiveSource, signUrl } from '../lib/index.js'
import { eventually } from './helpers/app.js'
import { browsers, colours, viewPicture, waitForColour, type Colour } from './helpers/browsers.js'

const KEY = randomBytes(32)

for (const browser of browsers) {
  t.test(`${browser.name}: a view whose signed URL expired comes back through refresh-src`, async (t) => {
    const live = createLiveSource()
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(serverPush, { signingKeys: KEY })
    // Streams the server ends after 1.5 s each: the view opens the route again and again, each time soon (a stream
    // that lasted a second or more keeps its backoff at its first steps).
    app.get('/cam.mjpg', { serverPush: { source: live, idleRepeatMs: 0, maxStreamMs: 1500 } }, async () => {})
    const asked: string[] = []
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.url === '/cam.mjpg') asked.push(request.url)
    })
    // The page's own endpoint: a fresh URL each time, numbered so that the test sees which one a stream opened.
    let issued = 0
    let refreshes = 0
    let failing = false
    app.get('/cam-url', async (_request, reply) => {
      refreshes++
      if (failing) return reply.code(503).send('down for a moment')
      return reply.type('text/plain').send(signUrl(`/cam.mjpg?n=${++issued}`, { key: KEY, expiresIn: 60 }))
    })
    // The page's URL, signed as the page is served, for a second.
    let src = ''
    app.get('/', async (_request, reply) => {
      src = signUrl('/cam.mjpg', { key: KEY, expiresIn: 1 })
      return reply.type('text/html').send(`<!doctype html><link rel=icon href="data:,">
<script src="/push-view.js"></script><push-view id=v style="width:64px" src="${src}" refresh-src="/cam-url"></push-view>`)
    })
    // A page whose URL had expired before its view opened it (a tab opened in the background, a page restored
    // from the cache): signed by the README's scheme with an expiry in the past.
    const signed = `/cam.mjpg?expires=${Math.floor(Date.now() / 1000) - 60}`
    const stale = `${signed}&signature=${createHmac('sha256', KEY).update(`GET\n${signed}`).digest('base64url')}`
    app.get('/stale', async (_request, reply) => reply.type('text/html').send(`<!doctype html><link rel=icon href="data:,">
<script src="/push-view.js"></script><push-view id=v style="width:64px" src="${stale}" refresh-src="/cam-url"></push-view>`))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    live.publish((colours[0] as Colour).jpeg)
    const page = await browser.open(t)
    await page.goto(`${origin}/`)
    await waitForColour(page, viewPicture('#v'), (colours[0] as Colour).rgb)
    const expires = Number(/expires=(\d+)/.exec(src)?.[1])

    // Fresh URLs asked for once the page's own had expired: the view came back through refresh-src.
    let before: number | undefined
    await eventually(() => {
      if (Date.now() < expires * 1000) return false
      before ??= asked.length
      return asked.slice(before).filter((url) => url.includes('?n=')).length >= 2
    }, 'two streams asked for on fresh URLs after the page\'s URL expired')
    const attempts = [...asked]
    t.equal((await fetch(`${origin}${src}`)).status, 403, 'the page\'s own URL has expired: refused')
    t.equal(attempts[0], src, 'the first attempt opened src')
    t.ok(attempts.slice(1).every((url) => /^\/cam\.mjpg\?n=\d+&expires=\d+&signature=[\w-]{43}$/.test(url)),
      `every attempt after the first opened a URL from refresh-src: ${attempts.slice(0, 3).join(' ')} …`)
    for (const colour of colours.slice(1, 3)) {
      live.publish(colour.jpeg)
      await waitForColour(page, viewPicture('#v'), colour.rgb)
    }
    t.pass(`painting on, after ${attempts.length} attempts and ${issued} fresh URLs`)

    // The endpoint fails: no stream is asked for without a fresh URL, and the view keeps asking it, later and
    // later; back, the view paints again.
    failing = true
    const streamsThen = asked.length
    const refreshesThen = refreshes
    await eventually(() => refreshes >= refreshesThen + 3, 'three refreshes while the endpoint fails')
    t.ok(asked.length <= streamsThen + 1, `no stream asked for on a failed refresh (${asked.length - streamsThen} since, the one open then at most)`)
    failing = false
    live.publish((colours[3] as Colour).jpeg)
    await waitForColour(page, viewPicture('#v'), (colours[3] as Colour).rgb)
    t.pass(`painting again once refresh-src answers (${refreshes - refreshesThen} refreshes meanwhile)`)
    t.same(page.consoleErrors.filter((error) => !/403|503/.test(error)), [], page.consoleErrors.join(' | '))

    // The page whose URL had expired: refused once, then asked again through refresh-src, and painting.
    const from = asked.length
    await page.goto(`${origin}/stale`)
    live.publish((colours[4] as Colour).jpeg)
    await waitForColour(page, viewPicture('#v'), (colours[4] as Colour).rgb)
    t.equal(asked[from], stale, 'the expired src asked first')
    t.match(asked[from + 1], /^\/cam\.mjpg\?n=\d+&/, 'then a fresh URL from refresh-src')
  })
}
