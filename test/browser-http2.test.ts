// A wall of 12 cameras on one page, the reason for HTTP/2. Over h2 (TLS, with the run's self-signed certificate,
// which the browsers are told to accept) all 12 `<img>` streams share one connection and each paints every frame
// while it is the newest. The same page over HTTP/1.1 gets 6 connections, and the other 6 streams never start:
// the control that shows the test can fail. And a pushed HTML page over h2.
import t, { type Test } from 'tap'
import { createLiveSource, type LiveSource } from '../lib/index.js'
import { eventually } from './helpers/app.js'
import { browsers, colours, near, paintedColour, waitForColour, waitForText, type BrowserPage, type Colour } from './helpers/browsers.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { serve, type Serving } from './helpers/protocols.js'

const VIEWS = 12
const colour = (i: number): Colour => colours[i % colours.length] as Colour
const views = Array.from({ length: VIEWS }, (_, i) => `#cam${i + 1}`)

/** The wall: `<img id=camN src=/cam/N>`, 12 distinct URLs of one live route. */
const WALL = `<!doctype html><link rel=icon href="data:,"><style>img { width: 128px; height: 96px; margin: 2px }</style>
${views.map((id, i) => `<img id=${id.slice(1)} src="/cam/${i + 1}">`).join('')}`

interface Wall {
  url: string
  live: LiveSource
  /** The HTTP version of each stream request the server got, in order. */
  versions: string[]
  viewers: () => number
  /** HTTP/2 sessions the server has had (none over HTTP/1.1). */
  sessions: () => number
}

async function wall (t: Test, serving: Serving): Promise<Wall> {
  const live = createLiveSource()
  const versions: string[] = []
  let sessions = 0
  const { app, origin } = await serve(t, serving, { routes: [{ path: '/cam/:n', source: live, idleRepeatMs: 0 }] }, (app) => {
    app.server.on('session', () => { sessions++ })
    app.addHook('onRequest', async (request) => { if (request.url.startsWith('/cam/')) versions.push(request.raw.httpVersion) })
    app.get('/', async (_request, reply) => reply.type('text/html').send(WALL))
  })
  return { url: `${origin}/`, live, versions, viewers: () => app.serverPush.stats()['/cam/:n']?.viewers ?? 0, sessions: () => sessions }
}

/** How many of the wall's views paint `frame` now. */
async function showing (page: BrowserPage, frame: Colour): Promise<number> {
  let count = 0
  for (const view of views) if (near(await paintedColour(page, view), frame.rgb)) count++
  return count
}

for (const browser of browsers) {
  t.test(browser.name, async (t) => {
    const page = await browser.open(t)

    t.test('HTTP/2: a page of 12 streams paints every frame in every view, each while it is the newest', async (t) => {
      const { url, live, versions, viewers, sessions } = await wall(t, 'h2')
      live.publish(colour(0).jpeg)
      await page.goto(url)
      await eventually(() => viewers() === VIEWS, 'all 12 streams open')
      t.same(versions, Array(VIEWS).fill('2.0'), 'every stream over HTTP/2')
      t.equal(sessions(), 1, 'all on one connection')
      for (const view of views) await waitForColour(page, view, colour(0).rgb)
      // Frame N+1 is published only once all 12 views paint N, with no idle repeat: a view a frame behind never
      // paints N, and fails here after the patience.
      for (let i = 1; i <= 3; i++) {
        live.publish(colour(i).jpeg)
        const start = performance.now()
        for (const view of views) await waitForColour(page, view, colour(i).rgb)
        t.pass(`${colour(i).name} painted in all 12 views while it was the newest frame`)
        t.comment(`all 12 views painted ${colour(i).name} ${(performance.now() - start).toFixed(0)} ms after publish`)
      }
      t.same(page.consoleErrors, [], page.consoleErrors.join(' | '))
    })

    t.test('HTTP/2: a pushed HTML page shows each part before the next one is sent', async (t) => {
      const live = createLiveSource()
      const board = (i: number): string => `<!doctype html><meta charset="utf-8"><title>board</title><h1>tick ${i}</h1>`
      const versions: string[] = []
      const { origin } = await serve(t, 'h2', { routes: [{ path: '/board', source: live, contentType: 'text/html; charset=utf-8' }] }, (app) => {
        app.addHook('onRequest', async (request) => { versions.push(`${request.url} ${request.raw.httpVersion}`) })
      })
      live.publish(board(0))
      await page.goto(`${origin}/board`)
      await waitForText(page, 'tick 0')
      for (let i = 1; i <= 3; i++) {
        live.publish(board(i))
        await waitForText(page, `tick ${i}`)
        t.pass(`part ${i} shown while it was the newest`)
      }
      t.ok(versions.length > 0 && versions.every((line) => line.endsWith(' 2.0')), `every request over HTTP/2: ${versions.join(', ')}`)
      t.same(page.consoleErrors, [], page.consoleErrors.join(' | '))
    })

    // Last, as its 6 waiting requests fail (and Chromium logs them) when its server closes.
    t.test('control: the same page over HTTP/1.1 (TLS) opens 6 streams, and 6 views never paint', async (t) => {
      const { url, live, versions, viewers } = await wall(t, 'https')
      await page.goto(url)
      await eventually(() => viewers() === 6, '6 streams open')
      for (let i = 1; i <= 3; i++) {
        live.publish(colour(i).jpeg)
        const deadline = performance.now() + PATIENCE_MS
        while (await showing(page, colour(i)) < 6) {
          if (performance.now() > deadline) throw new Error(`fewer than 6 views painted ${colour(i).name}`)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
      // Each of the 6 has painted 3 frames since the page opened: a 7th connection would have been opened by now.
      t.same(versions, Array(6).fill('1.1'), 'only 6 stream requests reached the server, over HTTP/1.1')
      t.equal(await showing(page, colour(3)), 6, '6 views show the latest frame')
      let blank = 0
      for (const view of views) if (await paintedColour(page, view) === null) blank++
      t.equal(blank, 6, 'and 6 have never painted')
    })
  })
}
