// What real browsers paint of a stream, read from the pixels of `<img src=stream>`: that a frame shows without
// waiting for more data, whether the screen lags a frame behind, and that a source which goes quiet is still shown.
// Every wait is patient (a hang detector): what a test proves comes from the order of publishes and paints, never
// from how fast a paint came; the times are printed as comments.
import t, { type Test } from 'tap'
import { createLiveSource, type PushRouteOptions } from '../lib/index.js'
import { aborted, eventually, startApp } from './helpers/app.js'
import { browsers, colours, near, paintedColour, waitForColour, type Colour } from './helpers/browsers.js'

const colour = (i: number): Colour => colours[i % colours.length] as Colour
const ms = (elapsed: number): string => `${elapsed.toFixed(0)} ms`

/** A page showing, for each `id: src` of `images`, an `<img id=ID src=SRC>`. */
function page (images: Record<string, string>): string {
  const tags = Object.entries(images).map(([id, src]) => `<img id=${id} src="${src}">`).join('')
  // The data: icon spares a favicon request, whose 404 Chromium would log as a console error.
  return `<!doctype html><link rel=icon href="data:,">${tags}`
}

/** An app serving `route` at /stream, and at / a page of `images` (by default /stream as `<img id=v>`). */
async function streamPage (t: Test, route: Omit<PushRouteOptions, 'path'>, images: Record<string, string> = { v: '/stream' }): Promise<{ url: string, viewers: () => number }> {
  const { stats, port } = await startApp(t, { routes: [{ path: '/stream', ...route }] }, { pages: { '/': page(images) } })
  return { url: `http://127.0.0.1:${port}/`, viewers: () => stats()['/stream']?.viewers ?? 0 }
}

/** A source that sends one frame and then holds the stream open, silent. */
const oneFrame = (frame: Colour): PushRouteOptions['source'] => async function * ({ signal }) {
  yield frame.jpeg
  await aborted(signal)
}

for (const browser of browsers) {
  t.test(browser.name, async (t) => {
    const page = await browser.open(t)

    /** Opens `url`, waits until `frame` is painted, and prints how long that took. */
    async function paintsOnOpening (t: Test, url: string, frame: Colour): Promise<void> {
      const start = performance.now()
      await page.goto(url)
      await waitForColour(page, '#v', frame.rgb)
      t.comment(`${frame.name} painted ${ms(performance.now() - start)} after goto`)
    }

    t.test('a live source\'s latest frame is painted on opening the page, with no later part to push it out', async (t) => {
      const live = createLiveSource()
      live.publish(colour(0).jpeg)
      // No idle repeat and no later frame: only the layout of the first part can make it show.
      await paintsOnOpening(t, (await streamPage(t, { source: live, idleRepeatMs: 0 })).url, colour(0))
      t.same(page.consoleErrors, [])
    })

    t.test('lag 0: each published frame is painted before the next one is published', async (t) => {
      const live = createLiveSource()
      // No idle repeat, and frame N+1 is published only once N is painted: nothing but the layout of N's part
      // can make N show. A stream a frame behind never paints N, and fails here after the patience.
      const { url, viewers } = await streamPage(t, { source: live, idleRepeatMs: 0 })
      await page.goto(url)
      await eventually(() => viewers() === 1)
      for (let i = 1; i <= 3; i++) {
        live.publish(colour(i).jpeg)
        const elapsed = await waitForColour(page, '#v', colour(i).rgb)
        t.pass(`${colour(i).name} painted while it was the newest frame`)
        t.comment(`${colour(i).name} painted ${ms(elapsed)} after publish`)
      }
      t.same(page.consoleErrors, [])
    })

    t.test('a source that sends one frame and goes quiet is painted (no idle repeat)', async (t) => {
      const { url } = await streamPage(t, { source: oneFrame(colour(2)), idleRepeatMs: 0 })
      await paintsOnOpening(t, url, colour(2))
      t.same(page.consoleErrors, [])
    })

    // Firefox paints a standard part as soon as its Content-Length is in: there the layouts look the same.
    if (browser.name !== 'firefox') {
      t.test(`control: with ?framing=standard ${browser.name} paints a part only once the next one begins`, async (t) => {
        const live = createLiveSource()
        live.publish(colour(0).jpeg)
        // #w, the same stream in advance framing, is the witness that the browser has had frame N and painted it.
        const { url, viewers } = await streamPage(t, { source: live, idleRepeatMs: 0 },
          { v: '/stream?framing=standard', w: '/stream?framing=advance' })
        await page.goto(url)
        await eventually(() => viewers() === 2)
        for (let i = 1; i <= 3; i++) {
          live.publish(colour(i).jpeg)
          // N-1 shows once N is sent: the lag-0 procedure would have waited for it forever.
          await waitForColour(page, '#v', colour(i - 1).rgb)
          await waitForColour(page, '#w', colour(i).rgb)
          // #v shows N-1 or, only if the framing let it, N. A slow machine can delay N on #v but never bring
          // it early, so slowness can only make this hold; on any machine it holds because the layout is behind.
          const painted = await paintedColour(page, '#v')
          t.ok(near(painted, colour(i - 1).rgb), `${colour(i).name} painted by the advance-framed witness, the standard one still ${colour(i - 1).name} (${String(painted)})`)
        }
        t.same(page.consoleErrors, [])
      })
    }

    t.test('idle repeat: a quiet standard-framed stream is painted once its part is sent again', async (t) => {
      const { url } = await streamPage(t, { source: oneFrame(colour(3)), idleRepeatMs: 300 }, { v: '/stream?framing=standard' })
      await paintsOnOpening(t, url, colour(3))
      t.same(page.consoleErrors, [])
    })
  })
}
