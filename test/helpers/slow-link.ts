// A Node script run on a slow link, as viewers on Wi-Fi or a mobile uplink see a server: inside an unprivileged
// network namespace of its own (`unshare -rn`, no root needed) whose loopback is a 1500-byte-MTU link limited by
// a token bucket (tc's tbf; netem's delay and loss are not available everywhere, and are not needed). The script
// may change the rate as it runs (`tc qdisc change dev lo root tbf …`, bench/links/link.mjs), and reports what it
// measured as JSON on stdout.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import type { Test } from 'tap'
import { plainEnv, run } from './child.js'
import { PATIENCE_MS } from './patience.js'

// Debian keeps ip and tc in /sbin, which an unprivileged user's PATH may leave out.
const PATH = [process.env.PATH ?? '', '/usr/sbin', '/sbin'].join(delimiter)

const LINK = 'ip link set lo mtu 1500 up && tc qdisc add dev lo root tbf rate "$1" burst 32kbit latency 100ms'

/** The programs the namespace needs, and the Debian package of each. */
const PROGRAMS = [['unshare', 'util-linux'], ['ip', 'iproute2'], ['tc', 'iproute2']]

function onPath (program: string): boolean {
  return PATH.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Throws, saying what to install, unless `unshare`, `ip` and `tc` are there. */
function checkPrograms (): void {
  const missing = PROGRAMS.filter(([program]) => !onPath(program as string))
  if (missing.length > 0) {
    throw new Error(`the slow-link tests need ${missing.map(([program, pkg]) => `\`${program}\` (Debian package ${pkg})`).join(', ')}: \
install them (node test/system-packages.mjs does, as root)`)
  }
}

export interface SlowLinkOptions {
  /** The link's rate at the start, in bit/s. */
  rate: number
  /** Arguments after the script's path. */
  args?: string[]
  /**
   * A hang detector, never a speed bound: the script's own length (the frames it publishes at its pace) plus
   * the usual patience.
   */
  timeoutMs?: number
}

/**
 * Runs `script` (a path from the project's root) with Node on a slow link and resolves with the JSON it
 * printed; rejects with its stderr if it fails. The script is killed when `t` ends, if it has not ended.
 */
export async function onSlowLink (t: Test, script: string, { rate, args = [], timeoutMs = PATIENCE_MS }: SlowLinkOptions): Promise<unknown> {
  checkPrograms()
  const ended = new AbortController()
  t.teardown(() => ended.abort())
  // unshare execs sh, which execs node: the child's pid is the script's, and killing it leaves nothing behind.
  const { code, stdout, stderr } = await run('unshare', ['-rn', 'sh', '-c', `${LINK} && shift && exec "$@"`, 'sh', `${rate}bit`, process.execPath, script, ...args],
    { timeoutMs, env: plainEnv({ PATH }), signal: ended.signal })
  if (code !== 0) {
    // Some systems (Ubuntu since 23.10, hardened kernels) refuse unprivileged user namespaces.
    const hint = /^unshare: /m.test(stderr) ? ' (are unprivileged user namespaces allowed? see sysctl kernel.apparmor_restrict_unprivileged_userns)' : ''
    throw new Error(`${script} on a ${rate} bit/s link exited with ${code}${hint}: ${stderr}`)
  }
  try {
    return JSON.parse(stdout)
  } catch {
    throw new Error(`${script} printed no JSON: ${stdout}\n${stderr}`)
  }
}
