// A text/html push route opened as a page: Firefox renders each part natively, Chromium through the plugin's
// reader page; either way each part shows once it is sent, before the next one comes.
import t from 'tap'
import { createLiveSource } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { browsers, waitForText } from './helpers/browsers.js'

for (const browser of browsers) {
  t.test(`${browser.name}: a text/html push route opened as a page shows each part before the next one is sent`, async (t) => {
    const live = createLiveSource()
    const { app, port } = await startApp(t, { routes: [{ path: '/board', source: live, contentType: 'text/html; charset=utf-8' }] })
    // Firefox decodes a pushed page by its <meta charset>: it ignores the charset parameter of the part's Content-Type.
    const board = (i: number): string => `<!doctype html><meta charset="utf-8"><title>board</title><h1>tick ${i} ✓</h1>`
    live.publish(board(0))
    const page = await browser.open(t)
    await page.goto(`http://127.0.0.1:${port}/board`)
    await waitForText(page, 'tick 0 ✓')
    // A text/html route repeats nothing when idle (checked below), and part N+1 is sent only once N shows: nothing
    // but N's own bytes can make it show. A page kept a part behind never shows N, and fails here after the patience.
    for (let i = 1; i <= 3; i++) {
      live.publish(board(i))
      const elapsed = await waitForText(page, `tick ${i} ✓`)
      t.pass(`part ${i} shown while it was the newest`)
      t.comment(`part ${i} shown ${elapsed.toFixed(0)} ms after its send`)
    }
    t.equal(app.serverPush.stats()['/board']?.partsRepeated, 0, 'no part was sent twice')
    t.same(page.consoleErrors, [], page.consoleErrors.join(' | '))
  })
}
