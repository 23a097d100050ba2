// The example app's viewer page in real browsers: it loads without a console error, both views change frame,
// the pushed HTML clock ticks (natively in Firefox, through the reader page in Chromium), and the stats fill in.
// Served over HTTPS, its wall page shows twelve views of the live camera over HTTP/2.
// `SCREENSHOT=docs/example-page.png WALL_SCREENSHOT=docs/wall-http2.png npx tap --disable-coverage
// test/browser-example.test.ts` refreshes the README's screenshots.
import t from 'tap'
import { browsers, paintedDigest, viewPicture, type BrowserPage } from './helpers/browsers.js'
import { plainEnv, startChild } from './helpers/child.js'
import { certificate } from './helpers/protocols.js'
import { PATIENCE_MS } from './helpers/patience.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface PageDocument {
  getElementById (id: string): { contentDocument: PageDocument | null } | null
  querySelector (selector: string): { textContent: string } | null
  querySelectorAll (selector: string): { length: number }
}

/** The time the clock iframe shows now ('' before the first part). */
function clockText (page: BrowserPage): Promise<string> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as { document: PageDocument }
    return document.getElementById('clock')?.contentDocument?.querySelector('h3')?.textContent ?? ''
  }, null)
}

/**
 * Resolves with what `read` gives once it differs from `first` (and from null and ''), polled every 50 ms; rejects
 * after `timeoutMs`, a hang detector.
 */
async function changes<T> (what: string, read: () => Promise<T>, first: T, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const now = await read()
    // Firefox swaps in a new document for each pushed page: for a moment the clock's frame shows nothing.
    if (now !== null && now !== '' && JSON.stringify(now) !== JSON.stringify(first)) return now
    if (performance.now() > deadline) throw new Error(`${what} still showed ${JSON.stringify(first)} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

for (const browser of browsers) {
  t.test(`${browser.name}: the example viewer page`, async (t) => {
    const { child, match } = await startChild(process.execPath, ['example-app/server.js'],
      /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, plainEnv({ PORT: '0', HOST: '127.0.0.1' }))
    t.teardown(() => { child.kill('SIGKILL') })
    const page = await browser.open(t)
    await page.goto(`http://127.0.0.1:${match[1] as string}/`)

    // A <push-view> paints through the canvas (or <img>) inside it.
    for (const image of [viewPicture('#video'), viewPicture('#live'), '#snapshot']) {
      await changes(`${image}'s first frame`, () => paintedDigest(page, image), null)
    }
    for (const image of [viewPicture('#video'), viewPicture('#live')]) {
      const first = await paintedDigest(page, image)
      await changes(`${image}`, () => paintedDigest(page, image), first)
      t.pass(`${image} changes frame`)
    }
    const tick = await changes('the clock', () => clockText(page), '')
    t.match(tick, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'the clock shows a time')
    const next = await changes('the clock', () => clockText(page), tick)
    t.ok(Date.parse(next) > Date.parse(tick), `the clock ticks: ${tick} -> ${next}`)
    const rows = await changes('the stats table', () => page.evaluate(() =>
      (globalThis as unknown as { document: PageDocument }).document.querySelectorAll('#stats tr').length, null), 0)
    t.equal(rows, 3, 'one stats row per push route')
    const screenshot = process.env.SCREENSHOT
    if (browser.name === 'chromium' && screenshot !== undefined) await page.screenshot(screenshot as `${string}.png`)
    t.same(page.consoleErrors, [], page.consoleErrors.join(' | '))
  })
}

t.test('the wall page over HTTPS: a page that came over HTTP/2, and twelve views of the live camera, each changing frame', async (t) => {
  const { certPath, keyPath } = certificate()
  const { child, match } = await startChild(process.execPath, ['example-app/server.js'],
    /Server listening at https:\/\/127\.0\.0\.1:(\d+)/, plainEnv({ PORT: '0', HOST: '127.0.0.1', TLS_CERT: certPath, TLS_KEY: keyPath }))
  t.teardown(() => { child.kill('SIGKILL') })
  for (const browser of browsers) {
    const page = await browser.open(t)
    await page.goto(`https://127.0.0.1:${match[1] as string}/wall.html`)
    const views = Array.from({ length: 12 }, (_, i) => viewPicture(`#cam${i + 1}`))
    for (const view of views) {
      const first = await changes(`${view}'s first frame`, () => paintedDigest(page, view), null)
      await changes(view, () => paintedDigest(page, view), first)
    }
    t.pass(`${browser.name}: all 12 views change frame`)
    const protocol = await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.querySelector('#protocol')?.textContent, null)
    t.equal(protocol, 'h2', `${browser.name}: the page says it came over HTTP/2`)
    const screenshot = process.env.WALL_SCREENSHOT
    if (browser.name === 'chromium' && screenshot !== undefined) await page.screenshot(screenshot as `${string}.png`)
    t.same(page.consoleErrors, [], page.consoleErrors.join(' | '))
  }
})
