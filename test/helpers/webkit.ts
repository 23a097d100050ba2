// WebKitGTK, the engine behind Safari, from Debian's webkit2gtk-driver: its MiniBrowser driven by WebKitWebDriver
// over classic WebDriver (plain HTTP and JSON), on a virtual display from xvfb-run.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { BrowserPage } from './browser-page.js'
import { freePort } from './child.js'
import { PATIENCE_MS } from './patience.js'

const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'

interface Reply { value: unknown }

/**
 * Starts WebKitWebDriver under xvfb-run and opens a MiniBrowser session that accepts any certificate (the tests'
 * self-signed one); both are gone when `t` ends. Page errors are reported through `consoleErrors` as the page's
 * own `error` events (scripts and resources that fail to load) and `unhandledrejection` events, recorded from the
 * end of each `goto`: WebDriver classic has no console log here, and what fails while the page is parsed is missed.
 */
export async function openWebKit (t: Test): Promise<BrowserPage> {
  const port = await freePort()
  // Its own process group, so that the driver, Xvfb and the browser go together.
  const driver = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], { stdio: 'ignore', detached: true })
  let failed: Error | undefined
  driver.on('error', (error) => { failed = error })
  const exited = new Promise((resolve) => driver.once('exit', resolve))
  // SIGTERM first, so that xvfb-run removes Xvfb's lock file and socket; SIGKILL what is left after the grace.
  t.teardown(async () => {
    const group = -(driver.pid as number)
    try { process.kill(group, 'SIGTERM') } catch { return }
    await Promise.race([exited, sleep(2000)])
    try { process.kill(group, 'SIGKILL') } catch {}
  })
  const base = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      // Longer than any script a test runs in the page; a driver that hangs fails the call instead of the run.
      signal: AbortSignal.timeout(3 * PATIENCE_MS)
    })
    const { value } = await response.json() as Reply
    if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(value)}`)
    return value
  }
  const deadline = performance.now() + PATIENCE_MS
  for (;;) {
    try {
      await call('GET', '/status')
      break
    } catch (error) {
      if (failed !== undefined) throw failed
      if (performance.now() > deadline) throw error
      await sleep(100)
    }
  }
  const { sessionId } = await call('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        // A page showing a stream never finishes loading.
        pageLoadStrategy: 'none',
        acceptInsecureCerts: true
      }
    }
  }) as { sessionId: string }
  const session = `/session/${sessionId}`
  t.teardown(() => call('DELETE', session).catch(() => {}))
  // The paint probes wait in the page for up to the patience.
  await call('POST', `${session}/timeouts`, { script: 2 * PATIENCE_MS })

  const consoleErrors: string[] = []
  /** Runs `source` (a function's text) on `arg` in the page: its value, or the error of the page or the driver. */
  const run = async (source: string, arg: unknown): Promise<{ value?: unknown, error?: string }> => {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${source})(arguments[0])).then((value) => done({ value }), (error) => done({ error: String(error) }))`
    try {
      return await call('POST', `${session}/execute/async`, { script, args: [arg] }) as { value?: unknown, error?: string }
    } catch (error) {
      // Mostly a page between documents, which `goto` waits out; `evaluate` reports it as it came.
      return { error: `WebDriver: ${String(error)}` }
    }
  }
  const collectErrors = async (): Promise<void> => {
    const result = await run('() => { const errors = globalThis.__pushTestErrors ?? []; globalThis.__pushTestErrors = []; return errors }', null)
    consoleErrors.push(...(result.value as string[] | undefined ?? []))
  }
  return {
    consoleErrors,
    async goto (url) {
      consoleErrors.length = 0
      await call('POST', `${session}/url`, { url })
      // Parsed far enough to have a body, and the error recording installed in it.
      const parsed = performance.now() + PATIENCE_MS
      for (;;) {
        const result = await run(`(url) => {
          if (document.URL !== url || document.body === null) return false
          if (globalThis.__pushTestErrors === undefined) {
            globalThis.__pushTestErrors = []
            // Capturing: a resource that fails to load reports on its element, and its error does not bubble.
            addEventListener('error', (event) => globalThis.__pushTestErrors.push(event.message || 'failed to load ' + (event.target.src ?? event.target.href)), true)
            addEventListener('unhandledrejection', (event) => globalThis.__pushTestErrors.push(String(event.reason)))
          }
          return true
        }`, url)
        if (result.value === true) return
        if (performance.now() > parsed) throw new Error(`WebKit did not open ${url} in ${PATIENCE_MS} ms`)
        await sleep(20)
      }
    },
    async evaluate<A, R> (fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
      const result = await run(fn.toString(), arg)
      if (result.error !== undefined) throw new Error(result.error)
      await collectErrors()
      return result.value as R
    },
    // Another tab switched to: WebKitGTK makes the page's view hidden, as a browser does with a background tab.
    async hide () {
      await call('POST', `${session}/window/minimize`, {})
    },
    async show () {
      await call('POST', `${session}/window/maximize`, {})
    },
    async screenshot (path) {
      writeFileSync(path, Buffer.from(await call('GET', `${session}/screenshot`) as string, 'base64'))
    }
  }
}
