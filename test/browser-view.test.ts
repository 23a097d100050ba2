// <push-view> in real browsers: it paints each frame while it is the newest (lag 0), comes back by itself when
// the server ends a stream, when a stream goes silent, and when the server is closed and started again on the same
// port, all without a reload; it closes its streams while the page is hidden and opens them again when shown; it
// shows a picture's age, marks a stale picture and an offline part; removed, it closes its stream. Over HTTP/1.1
// on one page per browser, and a wall of 12 over HTTP/2 in the same browser. Every wait is patient; what a check proves
// comes from counts and painted pixels.
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import serverPush, { createLiveSource, type LiveSource, type PushRouteOptions } from '../lib/index.js'
import { aborted, eventually } from './helpers/app.js'
import { browsers, colours, viewPicture, waitForColour, type BrowserPage, type Colour } from './helpers/browsers.js'
import { freePort } from './helpers/child.js'
import { certificate } from './helpers/protocols.js'

const colour = (i: number): Colour => colours[i % colours.length] as Colour

/** A page of `<push-view>`s, by id and src, loading the script the plugin serves; it logs every frame and state. */
function page (views: Record<string, string>, size = '64px'): string {
  const tags = Object.entries(views).map(([id, src]) => `<push-view id=${id} src="${src}"></push-view>`).join('')
  return `<!doctype html><link rel=icon href="data:,"><style>push-view { width: ${size}; margin: 2px }</style>
<script>
  globalThis.frames_ = {}
  globalThis.states_ = {}
  document.addEventListener('frame', (event) => { frames_[event.target.id] = (frames_[event.target.id] ?? 0) + 1 })
  document.addEventListener('statechange', (event) => { (states_[event.target.id] ??= []).push(event.detail.state) })
</script>
<script src="/push-view.js"></script>${tags}`
}

interface Server {
  origin: string
  /** Stream requests the server got, by route path. */
  requests: Map<string, number>
  viewers (path: string): number
  /** Closes the server, cutting its connections (a restart); resolves once the port is free. */
  close (): Promise<void>
}

interface Setup {
  routes: PushRouteOptions[]
  pages: Record<string, string>
  port: number
  h2?: boolean
}

/** A Fastify app with the plugin on `port`, over HTTP/1.1 or (`h2`) HTTP/2 with TLS; closed at the end of `t`. */
async function startServer (t: Test, { routes, pages, port, h2 = false }: Setup): Promise<Server> {
  const { cert, key } = certificate()
  const app = (h2 ? Fastify({ http2: true, https: { cert, key } }) : Fastify()) as unknown as FastifyInstance
  const requests = new Map<string, number>()
  app.addHook('onRequest', async (request) => {
    const path = request.routeOptions.url
    if (path !== undefined && routes.some((route) => route.path === path)) requests.set(path, (requests.get(path) ?? 0) + 1)
  })
  await app.register(serverPush, { routes })
  for (const [path, html] of Object.entries(pages)) app.get(path, (_request, reply) => reply.type('text/html').send(html))
  const sockets = new Set<Socket>()
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  // After the plugin's own preClose has ended every stream: what is left (keep-alive connections, HTTP/2
  // sessions, a browser's spare connections) is cut, as a process that exits would.
  app.addHook('preClose', (done) => {
    for (const socket of sockets) socket.destroy()
    done()
  })
  await app.listen({ port, host: '127.0.0.1' })
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => (closed ??= app.close())
  t.teardown(close)
  return {
    origin: `${h2 ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    viewers: (path) => app.serverPush.stats()[path]?.viewers ?? 0,
    close
  }
}

interface PageGlobals {
  frames_: Record<string, number>
  states_: Record<string, string[]>
  document: {
    querySelectorAll (selector: string): Iterable<{ id: string, getAttribute (name: string): string | null }>
    getElementById (id: string): PageElement | null
  }
}

interface PageElement {
  remove (): void
  setAttribute (name: string, value: string): void
  removeAttribute (name: string): void
  querySelector (selector: string): { textContent: string } | null
}

/** Sets (a string) or removes (null) attributes of the element `id`. */
async function attributes (page: BrowserPage, id: string, values: Record<string, string | null>): Promise<void> {
  await page.evaluate(({ id, values }) => {
    const element = (globalThis as unknown as PageGlobals).document.getElementById(id)
    for (const [name, value] of Object.entries(values)) {
      if (value === null) element?.removeAttribute(name)
      else element?.setAttribute(name, value)
    }
  }, { id, values })
}

/** The age a view shows (show-age), or null when it shows none. */
function ageText (page: BrowserPage, id: string): Promise<string | null> {
  return page.evaluate((id) => (globalThis as unknown as PageGlobals).document.getElementById(id)?.querySelector('.push-view-age')?.textContent ?? null, id)
}

/** The `frame` events each view has dispatched since the page opened. */
function frameCounts (page: BrowserPage): Promise<Record<string, number>> {
  return page.evaluate(() => ({ ...(globalThis as unknown as PageGlobals).frames_ }), null)
}

/** The states a view has gone through since the page opened, in order. */
function stateHistory (page: BrowserPage, id: string): Promise<string[]> {
  return page.evaluate((id) => [...((globalThis as unknown as PageGlobals).states_[id] ?? [])], id)
}

/** Each view's `state` attribute now. */
function states (page: BrowserPage): Promise<Record<string, string | null>> {
  return page.evaluate(() => Object.fromEntries([...(globalThis as unknown as PageGlobals).document.querySelectorAll('push-view')]
    .map((view) => [view.id, view.getAttribute('state')])), null)
}

/** Resolves once `test` holds of what `read` gives, polled; rejects after the patience, with what it last read. */
async function until<T> (what: string, read: () => Promise<T>, test: (value: T) => boolean): Promise<T> {
  let last: T | undefined
  await eventually(async () => test(last = await read()), what).catch((error: Error) => {
    throw new Error(`${error.message}; last: ${JSON.stringify(last)}`)
  })
  return last as T
}

const CAMS = ['c1', 'c2', 'c3']
const SVG_RGB: [number, number, number] = [255, 0, 255]
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#f0f"/></svg>'

interface MorePage {
  document: { querySelector (selector: string): { tagName: string, getAttribute (name: string): string | null, setAttribute (name: string, value: string): void } | null }
}

for (const browser of browsers) {
  t.test(browser.name, async (t) => {
    const browserTest = t
    const browserPage = await browser.open(t, { hideable: true })
    const port = await freePort()
    const live = createLiveSource()
    // A camera that sends nothing: offline once it has had a viewer for 100 ms, until a frame comes.
    const down = createLiveSource({ offlineAfterMs: 100 })
    let ended = 0
    let quiet = 0
    const routes = (): PushRouteOptions[] => [
      { path: '/cam/:n', source: live, idleRepeatMs: 0 },
      // A stream the server ends after one frame, each time another colour.
      { path: '/ends', source: async function * () { yield colour(ended++).jpeg } },
      // Two frames 100 ms apart, then nothing and no repeat: to the view, a stream whose connection died.
      {
        path: '/quiet',
        source: async function * ({ signal }) {
          yield colour(quiet++).jpeg
          await sleep(100)
          yield colour(quiet++).jpeg
          await aborted(signal)
        },
        idleRepeatMs: 0
      },
      { path: '/offline', source: down },
      // Streams of the live camera that the server ends after 300 ms each, well-formed.
      { path: '/max', source: live, idleRepeatMs: 0, maxStreamMs: 300 },
      // An image no decoder of a view takes in every engine (ImageDecoder has no SVG): one part, then nothing.
      { path: '/svg', source: async function * ({ signal }) { yield Buffer.from(SVG); await aborted(signal) }, contentType: 'image/svg+xml', idleRepeatMs: 0 }
    ]
    const views = { c1: '/cam/1', c2: '/cam/2', c3: '/cam/3', ends: '/ends', quiet: '/quiet', off: '/offline', max: '/max' }
    const pages = {
      '/': page(views),
      '/more': page({}) + '<push-view id=door src="/cam/1" alt="Front door"></push-view><push-view id=svg src="/svg"></push-view>'
    }
    let server = await startServer(t, { routes: routes(), pages, port })
    live.publish(colour(0).jpeg)
    await browserPage.goto(`${server.origin}/`)
    await until('all views live, one offline', () => states(browserPage), (now) =>
      Object.entries(now).every(([id, state]) => state === (id === 'off' ? 'offline' : 'live')))

    t.test('lag 0: each published frame is painted in every view before the next one is published', async (t) => {
      await eventually(() => server.viewers('/cam/:n') === 3, '3 streams open')
      // No idle repeat, and frame N+1 is published only once every view paints N: a view a frame behind never
      // paints N, and fails here after the patience.
      for (let i = 1; i <= 3; i++) {
        live.publish(colour(i).jpeg)
        for (const id of CAMS) await waitForColour(browserPage, viewPicture(`#${id}`), colour(i).rgb)
        t.pass(`${colour(i).name} painted in all 3 views while it was the newest frame`)
      }
      const counts = await frameCounts(browserPage)
      t.ok(CAMS.every((id) => (counts[id] ?? 0) >= 4), `a frame event per frame shown: ${JSON.stringify(counts)}`)
      t.same(browserPage.consoleErrors, [], browserPage.consoleErrors.join(' | '))
    })

    t.test('a stream the server ends is opened again, and shows its new frame', async (t) => {
      // Each request gets one frame and the close: 3 requests and 3 frames shown mean the view came back twice.
      const counts = await until('3 frames on the ending stream', () => frameCounts(browserPage), (now) => (now.ends ?? 0) >= 3)
      t.ok((server.requests.get('/ends') ?? 0) >= 3, `${server.requests.get('/ends')} requests, ${counts.ends} frames shown`)
      await waitForColour(browserPage, viewPicture('#ends'), colour(ended - 1).rgb)
      t.pass('the view paints the last stream\'s frame')
    })

    t.test('streams the server ends after maxStreamMs: the view asks again each time, paints, and stays live', async (t) => {
      await eventually(() => (server.requests.get('/max') ?? 0) >= 3, '3 streams of /max')
      live.publish(colour(2).jpeg)
      await waitForColour(browserPage, viewPicture('#max'), colour(2).rgb)
      t.pass(`the newest frame painted after ${server.requests.get('/max')} streams`)
      const history = await stateHistory(browserPage, 'max')
      t.notOk(history.includes('stale'), `never stale between its streams: ${history.join(' ')}`)
    })

    t.test('a stream that goes silent is dropped and opened again', async (t) => {
      await until('a frame of a second stream', () => frameCounts(browserPage), (now) => (now.quiet ?? 0) >= 3)
      t.ok((server.requests.get('/quiet') ?? 0) >= 2, `${server.requests.get('/quiet')} requests`)
      await waitForColour(browserPage, viewPicture('#quiet'), colour(quiet - 1).rgb)
      t.pass('the view paints the new stream\'s frame')
    })

    t.test('the page hidden: its streams are closed; shown: they are open again and paint', async (t) => {
      await eventually(() => server.viewers('/cam/:n') === 3, '3 streams open')
      await browserPage.hide()
      await eventually(() => server.viewers('/cam/:n') === 0 && server.viewers('/quiet') === 0, 'no viewer left while hidden')
      t.pass('no viewer while the page is hidden')
      await browserPage.show()
      await eventually(() => server.viewers('/cam/:n') === 3, '3 streams open again')
      t.pass('3 viewers again once it is shown')
      live.publish(colour(5).jpeg)
      for (const id of CAMS) await waitForColour(browserPage, viewPicture(`#${id}`), colour(5).rgb)
      t.pass('and every view paints the next frame')
    })

    t.test('the picture\'s age shown, a stale picture marked, an offline part marked', async (t) => {
      // Nothing published: with stale-after, c1's picture turns stale on an open stream; a new frame makes it live.
      await attributes(browserPage, 'c1', { 'show-age': '', 'stale-after': '300' })
      await until('c1 stale', () => states(browserPage), (now) => now.c1 === 'stale')
      t.pass('stale once its picture is older than stale-after')
      live.publish(colour(3).jpeg)
      await until('c1 live', () => states(browserPage), (now) => now.c1 === 'live')
      t.match(await ageText(browserPage, 'c1'), /^\d+ s ago$/, 'its age shown')
      await attributes(browserPage, 'c1', { 'show-age': null, 'stale-after': null })
      t.equal(await ageText(browserPage, 'c1'), null, 'no age without show-age')
      await attributes(browserPage, 'off', { 'show-age': '' })
      t.match(await ageText(browserPage, 'off'), /^offline for (\d+ min )?\d+ s$/, 'the offline part says since when')
      // The camera sends a frame: the view shows it and is live, until the source's offline clock runs out again.
      const shown = (await frameCounts(browserPage)).off ?? 0
      down.publish(colour(4).jpeg)
      const history = await until('the offline view live again', () => stateHistory(browserPage, 'off'),
        (states) => states.indexOf('live', states.indexOf('offline')) !== -1)
      t.pass(`states: ${history.join(' ')}`)
      t.ok(((await frameCounts(browserPage)).off ?? 0) > shown, 'the camera\'s frame shown')
    })

    t.test('the server closed and started again on the same port: every view paints new frames, no reload', async (t) => {
      await server.close()
      const down = await until('the views stale', () => states(browserPage), (now) => CAMS.every((id) => now[id] === 'stale'))
      t.pass(`stale while the server is down: ${JSON.stringify(down)}`)
      // Closed with the browser's test, not this one: the next check uses it.
      server = await startServer(browserTest, { routes: routes(), pages, port })
      for (let i = 6; i <= 7; i++) {
        live.publish(colour(i).jpeg)
        for (const id of CAMS) await waitForColour(browserPage, viewPicture(`#${id}`), colour(i).rgb)
      }
      t.pass('all 3 views paint the restarted server\'s frames')
      await until('all views live again', () => states(browserPage), (now) => CAMS.every((id) => now[id] === 'live'))
      t.pass('and say they are live')
    })

    t.test('a view removed from the page closes its stream', async (t) => {
      await eventually(() => server.viewers('/cam/:n') === 3, '3 streams open')
      await browserPage.evaluate(() => { (globalThis as unknown as PageGlobals).document.getElementById('c3')?.remove() }, null)
      await eventually(() => server.viewers('/cam/:n') === 2, 'its stream closed')
      t.pass('2 viewers left')
    })

    t.test('a frame shown reads as an image named by the view\'s alt; an SVG part (no ImageDecoder takes it) is shown too', async (t) => {
      await browserPage.goto(`${server.origin}/more`)
      await eventually(() => server.viewers('/cam/:n') === 1, 'the view\'s stream open')
      live.publish(colour(8).jpeg)
      await waitForColour(browserPage, viewPicture('#door'), colour(8).rgb)
      const picture = (): Promise<unknown> => browserPage.evaluate(() => {
        const element = (globalThis as unknown as MorePage).document.querySelector('#door > :is(canvas, img)')
        // A canvas (where the engine has ImageDecoder) says it is an image, named by the view's alt; an <img> is one.
        if (element === null) return null
        return element.tagName === 'CANVAS' ? { role: element.getAttribute('role'), label: element.getAttribute('aria-label') } : { role: 'img', label: element.getAttribute('alt') }
      }, null)
      t.same(await picture(), { role: 'img', label: 'Front door' }, 'an image to assistive technology, named by alt')
      await browserPage.evaluate(() => { (globalThis as unknown as MorePage).document.querySelector('#door')?.setAttribute('alt', 'Back door') }, null)
      t.same(await picture(), { role: 'img', label: 'Back door' }, 'a new alt renames it')
      await waitForColour(browserPage, viewPicture('#svg'), SVG_RGB)
      t.pass('the SVG part is painted')
      t.same(browserPage.consoleErrors, [], browserPage.consoleErrors.join(' | '))
    })

    t.test('a wall of 12 over HTTP/2 comes back after a server restart', async (t) => {
      await wallHeals(t, browserPage)
    })
  })
}

/** A wall of 12 views over HTTP/2 paints a frame; the server is closed and started again; all 12 paint its next frame. */
async function wallHeals (t: Test, browserPage: BrowserPage): Promise<void> {
  const port = await freePort()
  const live: LiveSource = createLiveSource()
  const ids = Array.from({ length: 12 }, (_, i) => `cam${i + 1}`)
  const setup = {
    routes: [{ path: '/cam/:n', source: live, idleRepeatMs: 0 }],
    pages: { '/': page(Object.fromEntries(ids.map((id, i) => [id, `/cam/${i + 1}`])), '32px') },
    port,
    h2: true
  }
  let server = await startServer(t, setup)
  live.publish(colour(0).jpeg)
  await browserPage.goto(`${server.origin}/`)
  await eventually(() => server.viewers('/cam/:n') === 12, '12 streams open')
  for (const id of ids) await waitForColour(browserPage, viewPicture(`#${id}`), colour(0).rgb)
  await server.close()
  server = await startServer(t, setup)
  live.publish(colour(1).jpeg)
  for (const id of ids) await waitForColour(browserPage, viewPicture(`#${id}`), colour(1).rgb)
  t.equal(server.viewers('/cam/:n'), 12, 'all 12 views paint the restarted server\'s frame, on 12 streams')
}
