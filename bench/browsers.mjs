// The three engines for the bench, from Debian's packages and offline (as ../../shared/browsers/README.md and
// test/helpers/browsers.ts drive them for the tests), behind one small interface: goto, evaluate, close; and
// which processes render the page, so that the bench can read their main threads' CPU time from /proc.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium } from 'playwright-core'
import puppeteer from 'puppeteer-core'

const ROOT = new URL('..', import.meta.url).pathname
const WIDTH = 1280
const HEIGHT = 720

/** The pids below `root` (itself left out), from /proc: every process a browser we launched has started. */
function descendants (root) {
  const children = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // The command name is in parentheses and may hold spaces: the fields after the last ')' are plain.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(name)])
    } catch {
      // gone meanwhile
    }
  }
  const found = []
  for (let queue = [root]; queue.length > 0;) {
    const next = children.get(queue.shift()) ?? []
    found.push(...next)
    queue.push(...next)
  }
  return found
}

function read (path) {
  try { return readFileSync(path, 'utf8') } catch { return '' }
}

/** A process's arguments as one line (Chromium's zygote children rewrite theirs into one string). */
const commandLine = (pid) => read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ')

/** Which of our descendants render pages, by engine: their main thread is the page's main thread. */
const RENDERERS = {
  chromium: (pid) => / --type=renderer /.test(commandLine(pid)),
  // Web content processes, Fission's isolated ones included (not the parent, sockets, RDD, extensions).
  firefox: (pid) => /^(Web Content|Isolated Web Co)/.test(read(`/proc/${pid}/comm`)),
  webkit: (pid) => read(`/proc/${pid}/comm`).startsWith('WebKitWebProces')
}

/** Nanoseconds `pid`'s main thread has run (schedstat: not rounded to clock ticks as stat's utime is). */
export function mainThreadNs (pid) {
  return Number(read(`/proc/${pid}/task/${pid}/schedstat`).split(' ')[0] || 0)
}

/** Nanoseconds every thread of `pid` has run: utime + stime from stat, in clock ticks of 10 ms. */
export function processNs (pid) {
  const stat = read(`/proc/${pid}/stat`)
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 1e7
}

const LAUNCH = {
  async chromium (profile) {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      // Without the background-networking flags Chromium keeps trying to reach hosts outside this machine.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      ignoreHTTPSErrors: true,
      viewport: { width: WIDTH, height: HEIGHT }
    })
    const page = context.pages()[0] ?? await context.newPage()
    return {
      goto: (url) => page.goto(url, { waitUntil: 'domcontentloaded' }),
      evaluate: (fn, arg) => page.evaluate(fn, arg),
      close: () => context.close()
    }
  },
  async firefox (profile) {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      acceptInsecureCerts: true,
      userDataDir: profile,
      defaultViewport: { width: WIDTH, height: HEIGHT },
      extraPrefsFirefox: JSON.parse(readFileSync(join(ROOT, 'test/fixtures/firefox-offline-prefs.json'), 'utf8')),
      env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' }
    })
    const page = (await browser.pages())[0] ?? await browser.newPage()
    return {
      goto: (url) => page.goto(url, { waitUntil: 'domcontentloaded' }),
      evaluate: (fn, arg) => page.evaluate(fn, arg),
      close: () => browser.close()
    }
  },
  // WebKitWebDriver under xvfb-run, spoken to in classic WebDriver (HTTP and JSON), in its own process group so
  // that the driver, Xvfb, MiniBrowser and its web process go together.
  async webkit () {
    const spare = createServer().listen(0, '127.0.0.1')
    await once(spare, 'listening')
    const { port } = spare.address()
    spare.close()
    const driver = spawn('xvfb-run', ['-a', '-s', `-screen 0 ${WIDTH + 200}x${HEIGHT + 200}x24`, 'WebKitWebDriver', `--port=${port}`],
      { stdio: 'ignore', detached: true })
    const exited = new Promise((resolve) => driver.once('exit', resolve))
    const call = async (method, path, body) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body)
      })
      const { value } = await response.json()
      if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(value)}`)
      return value
    }
    const stop = async () => {
      // SIGTERM first, so that xvfb-run removes Xvfb's lock file; SIGKILL what is left.
      try { process.kill(-driver.pid, 'SIGTERM') } catch { return }
      await Promise.race([exited, sleep(2000)])
      try { process.kill(-driver.pid, 'SIGKILL') } catch {}
    }
    let session
    try {
      for (let tries = 0; ; tries++) {
        try { await call('GET', '/status'); break } catch (error) { if (tries > 100) throw error; await sleep(100) }
      }
      const { sessionId } = await call('POST', '/session', {
        capabilities: {
          alwaysMatch: {
            'webkitgtk:browserOptions': { binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] },
            // A page showing a stream never finishes loading.
            pageLoadStrategy: 'none',
            acceptInsecureCerts: true
          }
        }
      })
      session = `/session/${sessionId}`
      await call('POST', `${session}/timeouts`, { script: 600_000 })
      await call('POST', `${session}/window/rect`, { width: WIDTH, height: HEIGHT + 100 })
    } catch (error) {
      await stop()
      throw error
    }
    const evaluate = async (fn, arg) => {
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn})(arguments[0])).then((value) => done({ value }), (error) => done({ error: String(error) }))`
      const { value, error } = await call('POST', `${session}/execute/async`, { script, args: [arg ?? null] })
      if (error !== undefined) throw new Error(error)
      return value
    }
    return {
      async goto (url) {
        await call('POST', `${session}/url`, { url })
        // pageLoadStrategy none: wait until the new document has a body.
        for (let tries = 0; ; tries++) {
          const ready = await evaluate((url) => document.URL === url && document.body !== null, url).catch(() => false)
          if (ready) return
          if (tries > 500) throw new Error(`WebKit did not open ${url}`)
          await sleep(20)
        }
      },
      evaluate,
      async close () {
        await call('DELETE', session).catch(() => {})
        await stop()
      }
    }
  }
}

/**
 * Launches `engine` ('chromium', 'firefox' or 'webkit') with a fresh profile, one page of 1280x720. Also
 * `renderers()`: the pids of its page-rendering processes now. Only one browser at a time: those are found
 * among all of this process's descendants.
 */
export async function open (engine) {
  const profile = mkdtempSync(join(tmpdir(), `bench-${engine}-`))
  let browser
  try {
    browser = await LAUNCH[engine](profile)
  } catch (error) {
    rmSync(profile, { recursive: true, force: true })
    throw error
  }
  return {
    ...browser,
    renderers: () => descendants(process.pid).filter(RENDERERS[engine]),
    browserPids: () => descendants(process.pid),
    async close () {
      await browser.close()
      // Nothing of the browser left behind: what has not exited after its close is killed, by pid.
      for (let tries = 0; descendants(process.pid).length > 0 && tries < 50; tries++) await sleep(100)
      for (const pid of descendants(process.pid)) { try { process.kill(pid, 'SIGKILL') } catch {} }
      rmSync(profile, { recursive: true, force: true })
    }
  }
}
