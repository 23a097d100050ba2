// How little of a stream the kernel holds unsent. Latest-frame-wins keeps at most one part waiting in Node, but
// every part Node hands over waits in the socket's send buffer, which Linux grows to megabytes: seconds of video on
// a slow link, all of it older than the frame the viewer could have had. TCP_NOTSENT_LOWAT bounds what the kernel
// takes beyond what is on the wire, so the rest waits in Node, where the newest frame replaces it. Node has no
// setsockopt: the optional dependency `sockopt` sets it (N-API, prebuilt for Linux, macOS and Windows and loaded
// from its prebuilds at run time, so its install script, which npm 11 runs only once approved, is not needed). The
// option is set on every connection that carries a stream, when its first stream starts, rather than once a
// connection shows backpressure: one system call per connection costs nothing beside its accept, and by the time a
// fast-then-slow link shows backpressure the kernel already holds seconds of it.
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Logger } from './logger.js'
import { tcpSocketOf } from './node-internals.js'

/** What the kernel may hold of a connection beyond what is on the wire: a fraction of a camera's part. */
export const UNSENT_LIMIT_BYTES = 16 * 1024

const IPPROTO_TCP = 6
/** TCP_NOTSENT_LOWAT where it exists; Windows has no such option. */
const TCP_NOTSENT_LOWAT: Partial<Record<NodeJS.Platform, number>> = { linux: 25, darwin: 0x201 }

/** What a connection gets once the limiter is loaded: the limit, or (where there is none) the one warning. */
type Limiter = (tcp: Socket | undefined, log: Logger) => void

/**
 * The limiter, or the warning of why there is none: the package is not installed, has no build here, or the option
 * does not exist. Imported, as it is the one way to load a package from both of this package's builds (ES module
 * and CommonJS).
 */
async function loadLimiter (): Promise<Limiter> {
  const option = TCP_NOTSENT_LOWAT[process.platform]
  let loaded: typeof import('sockopt')
  // Where the limiter is missing is tested in a child process (test/unsent-limit.test.ts), which coverage does not count.
  /* c8 ignore start */
  if (option === undefined) return warning(new Error(`TCP_NOTSENT_LOWAT does not exist on ${process.platform}`))
  try {
    loaded = await import('sockopt')
  } catch (error) {
    return warning(error instanceof Error ? error : new Error(String(error)))
  }
  /* c8 ignore stop */
  const { setsockopt } = loaded
  return (tcp) => {
    // Found on every Node this package supports (test/node-internals.test.ts fails where it is not).
    /* c8 ignore next */
    if (tcp === undefined) return
    try {
      setsockopt(tcp, IPPROTO_TCP, option, UNSENT_LIMIT_BYTES)
    /* c8 ignore next 3 */
    } catch {
      // Only a connection closed before this microtask, its descriptor gone, makes it fail where the option exists.
    }
  }
}

/**
 * Loaded as this module is, long before a first viewer: a limit set late leaves what the kernel took meanwhile
 * (seconds of frames on a slow link, while a loaded machine loads a native module) in front of every frame after.
 */
const limiter = loadLimiter()
const limited = new WeakSet<Socket>()
let warned = false

/**
 * Whether Linux bounds unsent bytes for every socket already (`net.ipv4.tcp_notsent_lowat` below its default of
 * 2^32 − 1): then a missing limiter costs nothing, and nothing is logged.
 */
/* c8 ignore start */
function systemLimits (): boolean {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/tcp_notsent_lowat', 'latin1')) < 2 ** 32 - 1
  } catch {
    return false
  }
}
/* c8 ignore stop */

/**
 * Bounds what the kernel holds unsent on the connection under `socket` (the TCP socket itself, or the one a TLS
 * socket wraps) to UNSENT_LIMIT_BYTES; once per connection, before the first part (in the microtask queue). Where
 * it cannot be, the stream still works, its pictures lagging on a slow link: logged once per process, with the way
 * out.
 */
export function limitUnsent (socket: Socket, log: Logger): void {
  if (limited.has(socket)) return
  limited.add(socket)
  // Found now, while the connection is open: an HTTP/2 session's socket is a stand-in that throws once it is gone.
  const tcp = tcpSocketOf(socket)
  limiter.then((limit) => { limit(tcp, log) })
}

/**
 * Says once per process that pictures may lag, unless the system bounds every socket already. Tested in a child
 * process (test/unsent-limit.test.ts), which coverage does not count.
 */
/* c8 ignore start */
function warning (why: Error): Limiter {
  return (_tcp, log) => {
    if (warned) return
    warned = true
    if (systemLimits()) return
    log.warn({ err: why }, 'server push: could not limit the bytes the kernel holds unsent (TCP_NOTSENT_LOWAT), so pictures on slow links may lag by seconds; install the optional dependency sockopt, or set the sysctl net.ipv4.tcp_notsent_lowat=16384 (see the README, "Slow links")')
  }
}
/* c8 ignore stop */
