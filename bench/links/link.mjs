// The slow link the cases run on: the loopback of a network namespace of their own, limited by a token bucket
// (tc's tbf: no root needed inside `unshare -rn`), whose rate a case changes as it runs; and TCP_NOTSENT_LOWAT on
// a raw server's socket, through the optional `sockopt` package (Node itself has no setsockopt).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

// The link of the issue: a 32 kbit burst, and a queue of 100 ms at the rate before packets are dropped.
const BURST = '32kbit'
const LATENCY = '100ms'

/** Sets the loopback's rate to `rate` bit/s; the qdisc must exist (made by whoever entered the namespace). */
export function setRate (rate) {
  execFileSync('tc', ['qdisc', 'change', 'dev', 'lo', 'root', 'tbf', 'rate', `${rate}bit`, 'burst', BURST, 'latency', LATENCY])
}

/** `ip` and `tc` commands that bring the loopback up as a 1500-byte-MTU link of `rate` bit/s, for `sh -c`. */
export function linkScript (rate) {
  return `ip link set lo mtu 1500 up && tc qdisc add dev lo root tbf rate ${rate}bit burst ${BURST} latency ${LATENCY}`
}

// Linux's numbers: Node has no names for them.
const IPPROTO_TCP = 6
const TCP_NOTSENT_LOWAT = 25
const SOL_SOCKET = 1
const SO_RCVBUF = 8

/** At most `bytes` not yet sent may wait in `socket`'s kernel buffer: the raw servers' "with lowat" variant. */
export function setNotsentLowat (socket, bytes = 16384) {
  require('sockopt').setsockopt(socket, IPPROTO_TCP, TCP_NOTSENT_LOWAT, bytes)
}

/**
 * `socket`'s receive buffer fixed at `bytes` (Linux's autotuning, which grows it to megabytes while the viewer
 * reads, off): a viewer that stops reading then stops the server within a second, as a slow one would.
 */
export function setReceiveBuffer (socket, bytes) {
  require('sockopt').setsockopt(socket, SOL_SOCKET, SO_RCVBUF, bytes)
}

const CONGESTION_CONTROL = '/proc/sys/net/ipv4/tcp_congestion_control'

/** The namespace's TCP congestion control for the connections opened now. */
export function congestionControl () {
  return readFileSync(CONGESTION_CONTROL, 'latin1').trim()
}

/**
 * Sets the namespace's TCP congestion control (`reno`, which every Linux has and lets a namespace's owner choose,
 * or one the host allows) for the connections opened after.
 */
export function setCongestionControl (name) {
  writeFileSync(CONGESTION_CONTROL, name)
}

/**
 * Sets the namespace's `net.ipv4.tcp_notsent_lowat` (every TCP socket of the namespace that sets none of its own),
 * as a user would without the native option; 4294967295 (Linux's default) turns it off.
 */
export function setSysctlLowat (bytes) {
  writeFileSync('/proc/sys/net/ipv4/tcp_notsent_lowat', String(bytes))
}
