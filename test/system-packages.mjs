// The first step of `npm test`: the suite drives real programs from Debian's packages, never downloaded ones.
// Whatever is missing is installed with apt-get when this runs as root; otherwise the run stops here, before any
// test, with the one command that installs it. `--no-browsers` (the first step of `npm run test:quick`, which runs
// no browser) asks only for the rest.
import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Each Debian package the tests need, and the program by which a test finds it. */
const NEEDS = [
  // The ffmpeg tests run `ffmpeg` from the PATH, as a user's command source would.
  { pkg: 'ffmpeg', program: 'ffmpeg' },
  // The browser tests launch these paths (test/helpers/browsers.ts).
  { pkg: 'chromium', program: '/usr/bin/chromium', browser: true },
  { pkg: 'firefox-esr', program: '/usr/bin/firefox-esr', browser: true },
  // WebKitGTK's MiniBrowser, driven by WebKitWebDriver on a virtual display (test/helpers/webkit.ts).
  { pkg: 'webkit2gtk-driver', program: '/usr/bin/WebKitWebDriver', browser: true },
  { pkg: 'xvfb', program: 'xvfb-run', browser: true },
  // The HTTP/2 and TLS tests make their own self-signed certificate with it (test/helpers/protocols.ts), and read a
  // stream with curl as a user would.
  { pkg: 'openssl', program: 'openssl' },
  { pkg: 'curl', program: 'curl' },
  // The Redis tests start their own servers (test/helpers/redis.ts).
  { pkg: 'redis-server', program: 'redis-server' },
  // The metrics tests check the exposition text with promtool and scrape the example app with a real Prometheus
  // (test/prometheus.test.ts); the package ships both programs.
  { pkg: 'prometheus', program: 'prometheus' },
  // The slow-link tests limit a network namespace's loopback with ip and tc (test/helpers/slow-link.ts), which
  // Debian keeps in /sbin; unshare, which makes the namespace, is util-linux's, which Debian always has.
  { pkg: 'iproute2', program: '/sbin/tc' },
  // The chunked tests read a stream with Debian's Python and these clients (test/chunked.test.ts): modules, found
  // by a file of theirs.
  { pkg: 'python3-requests', file: '/usr/lib/python3/dist-packages/requests/__init__.py' },
  { pkg: 'python3-aiohttp', file: '/usr/lib/python3/dist-packages/aiohttp/__init__.py' }
]

function executable (file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function found (program) {
  if (program.startsWith('/')) return executable(program)
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, program)))
}

const needed = process.argv.includes('--no-browsers') ? NEEDS.filter(({ browser }) => browser !== true) : NEEDS
const missing = () => needed.filter(({ program, file }) => file === undefined ? !found(program) : !existsSync(file)).map(({ pkg }) => pkg)

const before = missing()
if (before.length > 0) {
  const command = `apt-get install -y ${before.join(' ')}`
  if (process.getuid?.() !== 0 || !found('apt-get')) {
    console.error(`The tests need Debian packages that this machine lacks: ${before.join(', ')}.
Install them, then run the tests again:

  sudo apt-get update && sudo ${command}
`)
    process.exit(1)
  }
  console.log(`installing the packages the tests need: ${before.join(' ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  // With their recommends: the browsers' fonts and Mesa are what the browser tests were checked with.
  execFileSync('apt-get', ['install', '-y', '-qq', ...before], { stdio: ['ignore', 'ignore', 'inherit'], env })
  const after = missing()
  if (after.length > 0) {
    console.error(`apt-get ran, but these are still missing: ${after.join(', ')}`)
    process.exit(1)
  }
}
