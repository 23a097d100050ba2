// What real browsers paint of a stream, read from the pixels of `<img src=stream>`: how soon a frame shows,
// whether the screen lags a frame behind, and that a source which goes quiet is still shown.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { createLiveSource, type PushRouteOptions } from '../lib/index.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { browsers, colours, dropUnusedSockets, near, paintedColour, waitForColour, type Colour } from './helpers/browsers.js'

t.setTimeout(60_000)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const colour = (i: number): Colour => colours[i % colours.length] as Colour

function servePage (app: FastifyInstance, src: string): void {
  // The data: icon spares a favicon request, whose 404 Chromium would log as a console error.
  app.get('/', (_request, reply) => reply.type('text/html').send(`<!doctype html><link rel=icon href="data:,"><img id=v src="${src}">`))
  dropUnusedSockets(app)
}

/** An app serving `route` at /stream, and at / a page showing `src` as `<img id=v>`. */
async function streamPage (t: Test, route: Omit<PushRouteOptions, 'path'>, src = '/stream'): Promise<{ url: string, viewers: () => number }> {
  const { app, port } = await startApp(t, { routes: [{ path: '/stream', ...route }] }, { setup: (app) => servePage(app, src) })
  return { url: `http://127.0.0.1:${port}/`, viewers: () => app.serverPush.stats()['/stream']?.viewers ?? 0 }
}

/** A source that sends one frame and then holds the stream open, silent. */
const oneFrame = (frame: Colour): PushRouteOptions['source'] => async function * ({ signal }) {
  yield frame.jpeg
  await aborted(signal)
}

for (const browser of browsers) {
  t.test(browser.name, async (t) => {
    const page = await browser.open(t)

    /** Opens `url` and resolves with the ms from then until `frame` is painted (at most `timeoutMs`). */
    async function msToPaint (url: string, frame: Colour, timeoutMs: number): Promise<number> {
      const start = performance.now()
      await page.goto(url)
      await waitForColour(page, '#v', frame.rgb, timeoutMs)
      return performance.now() - start
    }

    t.test('a live source\'s latest frame is painted within 500 ms of opening the page', async (t) => {
      const live = createLiveSource()
      live.publish(colour(0).jpeg)
      const ms = await msToPaint((await streamPage(t, { source: live })).url, colour(0), 3000)
      t.ok(ms <= 500, `painted ${ms.toFixed(0)} ms after goto`)
      t.same(page.consoleErrors, [])
    })

    t.test('lag 0: each published frame is painted within 150 ms, not when the next one comes', async (t) => {
      const live = createLiveSource()
      // No idle repeat: only the layout of the parts can make a frame show before the next one.
      const { url, viewers } = await streamPage(t, { source: live, idleRepeatMs: 0 })
      await page.goto(url)
      await eventually(() => viewers() === 1)
      for (let i = 1; i <= 5; i++) {
        const published = performance.now()
        live.publish(colour(i).jpeg)
        const ms = await waitForColour(page, '#v', colour(i).rgb, 1000)
        t.ok(ms <= 150, `${colour(i).name} painted ${ms.toFixed(0)} ms after publish`)
        await sleep(1000 - (performance.now() - published))
      }
      t.same(page.consoleErrors, [])
    })

    t.test('a source that sends one frame and goes quiet is painted (no idle repeat)', async (t) => {
      const { url } = await streamPage(t, { source: oneFrame(colour(2)), idleRepeatMs: 0 })
      const ms = await msToPaint(url, colour(2), 3000)
      t.ok(ms <= 1000, `painted ${ms.toFixed(0)} ms after goto`)
      t.same(page.consoleErrors, [])
    })

    // Firefox paints a standard part as soon as its Content-Length is in: there the layouts look the same.
    if (browser.name === 'chromium') {
      t.test('control: with ?framing=standard Chromium paints a part only once the next one begins', async (t) => {
        const live = createLiveSource()
        live.publish(colour(0).jpeg)
        await page.goto((await streamPage(t, { source: live, idleRepeatMs: 0 }, '/stream?framing=standard')).url)
        for (let i = 1; i <= 3; i++) {
          live.publish(colour(i).jpeg)
          await waitForColour(page, '#v', colour(i - 1).rgb, 1000)
          await sleep(300)
          const painted = await paintedColour(page, '#v')
          t.ok(near(painted, colour(i - 1).rgb), `300 ms after ${colour(i).name} was published: still ${colour(i - 1).name} (${String(painted)})`)
        }
        t.same(page.consoleErrors, [])
      })
    }

    t.test('idle repeat: a quiet standard-framed stream is painted once its part is sent again', async (t) => {
      const { url } = await streamPage(t, { source: oneFrame(colour(3)), idleRepeatMs: 300 }, '/stream?framing=standard')
      const ms = await msToPaint(url, colour(3), 3000)
      t.ok(ms <= 1500, `painted ${ms.toFixed(0)} ms after goto`)
      t.same(page.consoleErrors, [])
    })
  })
}
