// The suite's tiers beside tap's full run (package.json "tap"), and which tests each leaves out:
//   node test/tiers.mjs quick  `npm run test:quick`, the edit-test loop: this Node, no browser, no Redis cluster, no
//                              coverage (a subset cannot cover everything, and collecting coverage costs time).
//   node test/tiers.mjs full   `npm test`'s full run (every test, 100% coverage) under this Node if package.json's
//                              engines promises its line, else under the oldest line it promises: a Node the
//                              package does not promise (the machine's older one) is not worth a run of its own.
//   node test/tiers.mjs nodes  the last step of `npm test`: every test but the browsers', the slow links' and the
//                              real Prometheus' under each Node line that engines promises, but the full run's.
// Extra arguments go to tap, e.g. `npm run test:quick -- test/wire.test.ts`.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Every test that drives a browser is named so: test/browser-*.test.ts, test/servers/express-browser-paint.test.ts. */
const BROWSERS = '--exclude=test/**/*browser-*.test.ts'
/** Three Redis servers and an app process per instance, half a minute: a change outside lib/redis rarely concerns it. */
const CLUSTER = '--exclude=test/redis-cluster.test.ts'
/**
 * Seven slow links in turn, 75 s, the suite's longest file: run by the full run only, as what it needs of each Node
 * (HTTP/2 write callbacks, the session's socket, TCP_NOTSENT_LOWAT) test/http2.test.ts and test/unsent-limit.test.ts
 * check under every Node, and it alone would add a minute and more to each run.
 */
const SLOW_LINKS = '--exclude=test/slow-links.test.ts'
/**
 * A real Prometheus scraping the example app, 10 s: what it proves (the exposition Prometheus reads, its queries)
 * does not depend on the Node that serves it, and test/metrics.test.ts checks the metrics under every Node.
 */
const PROMETHEUS = '--exclude=test/prometheus.test.ts'
// Most tests spend their time waiting (sockets, timers, child processes): at tap's default of one file per core, a
// run kept 2 cores busy less than half the time, and twice as many files at once halved it.
const TAP = ['node_modules/.bin/tap', '--disable-coverage', `--jobs=${2 * availableParallelism()}`]

const [tier, ...tapArgs] = process.argv.slice(2)

/** Runs a command with this process's output; true if it succeeded. */
function run (command, args) {
  const { status, error } = spawnSync(command, args, { stdio: 'inherit' })
  if (error !== undefined) throw error
  return status === 0
}

/**
 * The first major of each alternative in engines.node (`^22.13 || ^24 || >=26` gives 22, 24, 26): one run per line
 * of Node the package promises, so a new line is tested from the moment engines names it.
 */
function promisedMajors () {
  const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  return engines.node.split('||').map((range) => Number(/\d+/.exec(range)[0]))
}

/**
 * The newest release of a Node major, through the npm registry's `node` package: downloaded by npx the first time,
 * from npm's cache after that. A failure says what could not be fetched, before any test runs.
 */
function nodeRelease (major) {
  const npx = ['--prefer-offline', '--yes', `node@${major}`]
  const { status, stdout, stderr, error } = spawnSync('npx', [...npx, '--version'], { encoding: 'utf8' })
  if (error !== undefined || status !== 0) {
    console.error(`Could not get Node ${major} from the npm registry (npx --yes node@${major}), which the runs under \
every Node that package.json's engines promises need: it is downloaded once, then used from npm's cache. Check the \
network or npm's registry setting, then run the tests again.
${error?.message ?? stderr}`)
    process.exit(1)
  }
  return { version: stdout.trim(), npx }
}

const current = Number(process.versions.node.split('.')[0])
/** The Node line the full run runs under: this one if promised, else the oldest promised. */
function fullRunMajor () {
  const majors = promisedMajors()
  return majors.includes(current) ? current : Math.min(...majors)
}

if (tier === 'quick') {
  process.exitCode = run(process.execPath, [...TAP, BROWSERS, CLUSTER, ...tapArgs]) ? 0 : 1
} else if (tier === 'full') {
  const major = fullRunMajor()
  if (major === current) {
    process.exitCode = run(process.execPath, ['node_modules/.bin/tap', ...tapArgs]) ? 0 : 1
  } else {
    const { version, npx } = nodeRelease(major)
    console.log(`\n# Node ${version} (package.json's engines does not promise Node ${current}): every test, with coverage\n`)
    process.exitCode = run('npx', [...npx, 'node_modules/.bin/tap', ...tapArgs]) ? 0 : 1
  }
} else if (tier === 'nodes') {
  const full = fullRunMajor()
  // Every Node is fetched before the first run, so that a missing one stops the step at once.
  const releases = promisedMajors().filter((major) => major !== full).map(nodeRelease)
  const failed = []
  for (const { version, npx } of releases) {
    console.log(`\n# Node ${version}: every test but the browsers', the slow links' and the real Prometheus'\n`)
    // Through npx, so that its Node comes first on the PATH, for the build and any `node` a test starts.
    if (!run('npx', [...npx, ...TAP, BROWSERS, SLOW_LINKS, PROMETHEUS, ...tapArgs])) failed.push(version)
  }
  if (failed.length > 0) {
    console.error(`\nTests failed under Node ${failed.join(', ')}`)
    process.exitCode = 1
  }
} else {
  console.error('usage: node test/tiers.mjs quick|full|nodes [tap arguments]')
  process.exitCode = 2
}
