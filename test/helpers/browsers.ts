// Real browsers from Debian (never downloaded): Chromium through playwright-core, Firefox ESR through
// puppeteer-core over WebDriver BiDi, WebKitGTK through WebKitWebDriver (webkit.ts), behind one small page
// interface so each browser test is written once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type * as Puppeteer from 'puppeteer-core'
import type { Test } from 'tap'
import { ROOT } from './child.js'
import { PATIENCE_MS } from './patience.js'
import type { BrowserPage } from './browser-page.js'
import { openWebKit } from './webkit.js'

// puppeteer-core through require(): under tap, ts-node's ESM resolver picks the wrong one of chromium-bidi's
// `exports` patterns (lib/cjs/* over lib/cjs/*.js) and looks for BidiMapper.js.js when Firefox starts.
const puppeteer = createRequire(import.meta.url)('puppeteer-core') as typeof Puppeteer

export type { BrowserPage }

export type Rgb = [r: number, g: number, b: number]

export interface Colour { name: string, rgb: Rgb, jpeg: Buffer }

/**
 * Solid 64x48 JPEG frames, made once with Debian's ffmpeg 5.1 and kept in test/fixtures/colours/:
 *   for c in red green blue yellow magenta cyan white black; do
 *     ffmpeg -f lavfi -i color=c=$c:s=64x48 -frames:v 1 -q:v 2 $c.jpg; done
 * `rgb` is the nominal colour: ffmpeg decodes every file to within 2 of it (ffmpeg's `green` is 0,128,0).
 */
export const colours: Colour[] = ([
  ['red', [255, 0, 0]],
  ['green', [0, 128, 0]],
  ['blue', [0, 0, 255]],
  ['yellow', [255, 255, 0]],
  ['magenta', [255, 0, 255]],
  ['cyan', [0, 255, 255]],
  ['white', [255, 255, 255]],
  ['black', [0, 0, 0]]
] as const).map(([name, rgb]) => ({ name, rgb: [...rgb], jpeg: readFileSync(join(ROOT, 'test/fixtures/colours', `${name}.jpg`)) }))

export interface Browser {
  name: 'chromium' | 'firefox' | 'webkit'
  /**
   * Launches the browser with a fresh profile and opens one page; both are gone when `t` ends. `hideable`: a page
   * that hide() really hides (Chromium then runs under puppeteer-core, see below).
   */
  open (t: Test, options?: { hideable?: boolean }): Promise<BrowserPage>
}

function freshProfile (t: Test, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `push-${name}-`))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

// Without the background-networking flags Chromium keeps trying to reach hosts outside this machine.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']

// With puppeteer's defaults alone Firefox still looks up outside hosts; with these it talks to 127.0.0.1 only.
// A copy of ../shared/browsers/firefox-offline-prefs.json, kept here so that a clone anywhere runs the tests.
const FIREFOX_PREFS_FILE = join(ROOT, 'test/fixtures/firefox-offline-prefs.json')

/** What a page of either driver offers, as far as these tests go. */
interface DriverPage {
  goto (url: string, options: { waitUntil: 'domcontentloaded', timeout: number }): Promise<unknown>
  evaluate (fn: (arg: unknown) => unknown, arg: unknown): Promise<unknown>
  screenshot (options: { path: string, fullPage: boolean }): Promise<unknown>
  bringToFront (): Promise<void>
}

/** Hides `page` behind another tab, opened by `newPage` the first time and brought to the front each time. */
function tabs (page: DriverPage, newPage: () => Promise<DriverPage>): Pick<BrowserPage, 'hide' | 'show'> {
  let other: DriverPage | undefined
  return {
    async hide () {
      other ??= await newPage()
      await other.bringToFront()
    },
    async show () { await page.bringToFront() }
  }
}

// The casts in `evaluate`: page functions here take and return plain data, so the drivers' typing of element
// handles passed in as arguments does not apply.
function wrap (page: DriverPage, consoleErrors: string[], newPage: () => Promise<DriverPage>): BrowserPage {
  return {
    consoleErrors,
    ...tabs(page, newPage),
    async goto (url) {
      consoleErrors.length = 0
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: PATIENCE_MS })
    },
    evaluate: async <A, R>(fn: (arg: A) => R | Promise<R>, arg: A) => await page.evaluate(fn as (arg: unknown) => unknown, arg) as R,
    async screenshot (path) { await page.screenshot({ path, fullPage: true }) }
  }
}

/** A browser launched through puppeteer-core with `options`, and its first page; gone when `t` ends. */
async function puppeteerPage (t: Test, options: Puppeteer.LaunchOptions): Promise<BrowserPage> {
  const browser = await puppeteer.launch(options)
  t.teardown(() => browser.close())
  const page = (await browser.pages())[0] ?? await browser.newPage()
  const consoleErrors: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })
  page.on('pageerror', (error) => consoleErrors.push(error instanceof Error ? error.message : String(error)))
  return wrap(page, consoleErrors, () => browser.newPage())
}

// Both accept any certificate: the HTTPS tests serve a self-signed one made for the run (helpers/protocols.ts), and the
// browsers reach only 127.0.0.1.
export const browsers: Browser[] = [
  {
    name: 'chromium',
    async open (t, { hideable = false } = {}) {
      const profile = freshProfile(t, 'chromium')
      // Playwright emulates focus on each of its pages, which Chromium counts as the page being captured: it stays
      // visible behind another tab. puppeteer-core does not, and there a page behind another tab is hidden.
      if (hideable) {
        return await puppeteerPage(t, {
          executablePath: '/usr/bin/chromium',
          headless: true,
          args: CHROMIUM_ARGS,
          timeout: PATIENCE_MS,
          acceptInsecureCerts: true,
          userDataDir: profile
        })
      }
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium',
        args: CHROMIUM_ARGS,
        timeout: PATIENCE_MS,
        ignoreHTTPSErrors: true
      })
      t.teardown(() => context.close())
      const page = context.pages()[0] ?? await context.newPage()
      const consoleErrors: string[] = []
      page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })
      page.on('pageerror', (error) => consoleErrors.push(error.message))
      return wrap(page, consoleErrors, () => context.newPage())
    }
  },
  {
    name: 'firefox',
    async open (t) {
      const profile = freshProfile(t, 'firefox')
      return await puppeteerPage(t, {
        browser: 'firefox',
        executablePath: '/usr/bin/firefox-esr',
        headless: true,
        timeout: PATIENCE_MS,
        acceptInsecureCerts: true,
        userDataDir: profile,
        extraPrefsFirefox: JSON.parse(readFileSync(FIREFOX_PREFS_FILE, 'utf8')) as Record<string, unknown>,
        env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' }
      })
    }
  },
  { name: 'webkit', open: openWebKit }
]

// The few page globals the probe below uses (this project compiles without the DOM library).
interface Bitmap { width: number, height: number, close?: () => void }
interface ImageElement { naturalWidth: number, naturalHeight: number }
interface PageGlobals {
  document: { querySelector (selector: string): object | null }
  createImageBitmap (image: object | null): Promise<Bitmap>
  OffscreenCanvas: new (width: number, height: number) => {
    getContext (kind: '2d', options: { willReadFrequently: boolean }): {
      drawImage (image: object, x: number, y: number): void
      getImageData (x: number, y: number, width: number, height: number): { data: Uint8ClampedArray }
    }
  }
}

interface Probe { selector: string, target: Rgb | null, tolerance: number, timeoutMs: number }

interface Painted { matched: boolean, colour: Rgb | null, digest: number | null }

/**
 * Runs in the page: the centre pixel of what `selector`'s image paints now, and a hash of all its pixels (both
 * null while it has nothing decodable), polled every 5 ms until the pixel is within `tolerance` of `target` or
 * `timeoutMs` has passed. It reads through createImageBitmap: in Firefox, drawImage(img) keeps giving the
 * first part of a stream; WebKit makes no bitmap of a stream, and there the element itself is drawn.
 */
async function probe ({ selector, target, tolerance, timeoutMs }: Probe): Promise<Painted> {
  const page = globalThis as unknown as PageGlobals
  const deadline = performance.now() + timeoutMs
  for (;;) {
    let colour: Rgb | null = null
    let digest: number | null = null
    try {
      const element = page.document.querySelector(selector)
      let image: object
      let width: number
      let height: number
      try {
        const bitmap = await page.createImageBitmap(element)
        image = bitmap
        ;({ width, height } = bitmap)
      } catch (error) {
        // WebKit makes no bitmap of a multipart image, and draws the element as it shows it. Only WebKit: Firefox
        // would draw the stream's first part.
        const { naturalWidth, naturalHeight } = (element ?? {}) as ImageElement
        const ua = (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent
        const webkit = /AppleWebKit\//.test(ua) && !/Chrome\//.test(ua)
        if (!webkit || !(naturalWidth > 0)) throw error
        image = element as object
        width = naturalWidth
        height = naturalHeight
      }
      const context = new page.OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })
      context.drawImage(image, 0, 0)
      ;(image as Bitmap).close?.()
      const { data } = context.getImageData(0, 0, width, height)
      const centre = (Math.floor(height / 2) * width + Math.floor(width / 2)) * 4
      colour = [data[centre] ?? 0, data[centre + 1] ?? 0, data[centre + 2] ?? 0]
      digest = 0
      for (const value of data) digest = (Math.imul(digest, 31) + value) | 0
    } catch {
      // no image element yet, or nothing decoded yet
    }
    const matched = target !== null && colour !== null && colour.every((value, i) => Math.abs(value - (target[i] ?? 0)) <= tolerance)
    if (target === null || matched || performance.now() >= deadline) return { matched, colour, digest }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** What a `<push-view>` (`view`, a selector) paints through: its canvas, or its <img> for a part no decoder took. */
export function viewPicture (view: string): string {
  return `${view} > :is(canvas, img)`
}

/** The RGB of the centre pixel `selector`'s image paints now, or null when it has nothing decodable yet. */
export async function paintedColour (page: BrowserPage, selector: string): Promise<Rgb | null> {
  return (await page.evaluate(probe, { selector, target: null, tolerance: 0, timeoutMs: 0 })).colour
}

/** A hash of every pixel `selector`'s image paints now, or null when it has nothing decodable yet: tells frames apart. */
export async function paintedDigest (page: BrowserPage, selector: string): Promise<number | null> {
  return (await page.evaluate(probe, { selector, target: null, tolerance: 0, timeoutMs: 0 })).digest
}

/** JPEG is lossy and browsers convert YCbCr to RGB each their own way: a channel may be off by this much. */
export const TOLERANCE = 40

/** Whether `painted` is `rgb`, give or take TOLERANCE per channel. */
export function near (painted: Rgb | null, rgb: Rgb): boolean {
  return painted !== null && painted.every((value, i) => Math.abs(value - rgb[i]!) <= TOLERANCE)
}

/**
 * Resolves with the ms from this call until `selector`'s image paints `rgb` (polled inside the page), for the
 * test to report, never to judge; rejects after `timeoutMs`, a hang detector, naming the last colour seen.
 */
export async function waitForColour (page: BrowserPage, selector: string, rgb: Rgb, timeoutMs = PATIENCE_MS): Promise<number> {
  const start = performance.now()
  const { matched, colour } = await page.evaluate(probe, { selector, target: rgb, tolerance: TOLERANCE, timeoutMs })
  const elapsed = performance.now() - start
  if (!matched) throw new Error(`${selector} did not paint ${rgb.join(',')} in ${timeoutMs} ms; last painted: ${colour?.join(',') ?? 'nothing'}`)
  return elapsed
}

/** The page's text now; '' while a part replaces the document (Firefox swaps the whole document per part). */
async function pageText (page: BrowserPage): Promise<string> {
  try {
    return await page.evaluate(() => (globalThis as unknown as { document: { body: { textContent: string } | null } }).document.body?.textContent ?? '', null)
  } catch {
    return ''
  }
}

/**
 * Ms from this call until the page's text includes `text`, for the test to report, never to judge; rejects after
 * `timeoutMs`, a hang detector, with the text it last had.
 */
export async function waitForText (page: BrowserPage, text: string, timeoutMs = PATIENCE_MS): Promise<number> {
  const start = performance.now()
  let seen = ''
  while (performance.now() - start < timeoutMs) {
    seen = await pageText(page)
    if (seen.includes(text)) return performance.now() - start
    await sleep(5)
  }
  throw new Error(`the page did not show ${JSON.stringify(text)} in ${timeoutMs} ms; it showed ${JSON.stringify(seen)}`)
}
