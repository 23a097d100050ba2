// The command's index page in Chromium: every camera of a config file shown as a view that paints that camera's
// frames, with the links to each of its URLs.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { browsers, colours, viewPicture, waitForColour, type Browser } from './helpers/browsers.js'
import { ROOT } from './helpers/child.js'
import { startCli } from './helpers/cli.js'

interface PageDocument { querySelectorAll (selector: string): ArrayLike<{ getAttribute (name: string): string | null }> }

const chromium = browsers.find((browser) => browser.name === 'chromium') as Browser

t.test('chromium: the index page shows each camera of a config file painted, and links to its URLs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'push-cli-browser-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // A folder of one picture is a camera of one colour: what each view paints tells the cameras apart.
  const shown = colours.filter((colour) => ['red', 'blue', 'yellow'].includes(colour.name))
  for (const { name } of shown) {
    mkdirSync(join(dir, name))
    copyFileSync(join(ROOT, 'test/fixtures/colours', `${name}.jpg`), join(dir, name, 'frame.jpg'))
  }
  const config = join(dir, 'cameras.json')
  writeFileSync(config, JSON.stringify({ cameras: shown.map(({ name }) => ({ name, dir: join(dir, name) })) }))
  const cli = await startCli(t, ['--config', config])
  const page = await chromium.open(t)
  await page.goto(`${cli.origin}/`)
  for (const { name, rgb } of shown) {
    const elapsed = await waitForColour(page, viewPicture(`push-view[src="/${name}/stream"]`), rgb)
    t.pass(`${name}: its view paints ${name}`)
    t.comment(`${name} painted ${elapsed.toFixed(0)} ms after the page loaded (or after the one before it)`)
  }
  const links = await page.evaluate(() => Array.from((globalThis as unknown as { document: PageDocument }).document.querySelectorAll('a[href]'), (a) => a.getAttribute('href')), null)
  for (const { name } of shown) {
    for (const path of ['stream', 'snapshot', 'state', '?action=stream', '?action=snapshot']) t.ok(links.includes(`/${name}/${path}`), `a link to /${name}/${path}`)
  }
  // What the command answered 404, by its own logs: names the resource behind a "Failed to load resource" error.
  const urls = new Map(cli.logs().filter((line) => line.msg === 'incoming request').map((line) => [line.reqId, (line.req as { url: string }).url]))
  const missing = cli.logs().filter((line) => (line.res as { statusCode?: number } | undefined)?.statusCode === 404).map((line) => urls.get(line.reqId))
  t.same(page.consoleErrors, [], `${page.consoleErrors.join(' | ')} (answered 404: ${missing.join(', ')})`)
  const exit = await cli.stop()
  t.same(exit, { code: 0, signal: null }, 'SIGTERM with the page open: exit 0')
})
