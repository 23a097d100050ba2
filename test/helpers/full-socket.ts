// A socket the client stopped reading, seen full from the server's side: how tests make one full whatever the
// kernel buffers, which differ from machine to machine by tens of MiB; and a relay that stops reading, or drops
// the connection, in the client's place.
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { connect as connectTcp, createServer, type AddressInfo, type Socket } from 'node:net'
import type { Test } from 'tap'
import type { LiveSource } from '../../lib/index.js'
import { eventually } from './app.js'

/** Remembers the server's side of the socket of the request with header `X-Pause`: there a test sees it full. */
export function pausedSocketOf (): { before: (req: IncomingMessage) => void, came: () => boolean, socket: () => Socket } {
  let socket: Socket | undefined
  return {
    before: (req) => { if (req.headers['x-pause'] !== undefined) socket = req.socket },
    came: () => socket !== undefined,
    socket: () => {
      if (socket === undefined) throw new Error('no request with X-Pause came')
      return socket
    }
  }
}

/**
 * Calls `publish` until the server's side of a paused socket is still full after it: how much that takes is the
 * kernel's choice (tens of MiB on some machines), never a number a test may assume. Returns how many it took.
 */
export async function publishUntilFull (publish: () => Promise<void>, socket: Socket): Promise<number> {
  for (let count = 0; count < 250; count++) {
    if (socket.writableNeedDrain) return count
    await publish()
  }
  throw new Error('a paused socket took 250 frames and is still not full')
}

/**
 * Resolves once `count` (a pull route's pulls) has stayed the same over 20 looks 5 ms apart: the route's stream
 * waits for its socket. Progress is whatever the kernel still took, for as long as it takes.
 */
export async function untilStill (count: () => number, what: string): Promise<void> {
  let seen = -1
  let still = 0
  await eventually(() => {
    still = count() === seen ? still + 1 : 0
    seen = count()
    return still >= 20
  }, what)
}

/** Publishes 512 KiB frames numbered by their bytes, and lets the server's writes settle after each. */
export function bigFrames (live: LiveSource): { publish: () => Promise<void>, last: () => number } {
  let count = 0
  return {
    publish: async () => {
      live.publish(Buffer.alloc(512 * 1024, ++count))
      await new Promise((resolve) => setImmediate(resolve))
    },
    last: () => count % 256
  }
}

/**
 * The most the kernel may buffer for one TCP connection, its receiving and sending ends together, as it says in
 * /proc (64 MiB where it does not): a part bigger than this cannot be flushed to a client that stops reading.
 */
export function kernelBufferLimit (): number {
  try {
    const most = (file: string): number => Number(readFileSync(`/proc/sys/net/ipv4/${file}`, 'utf8').trim().split(/\s+/)[2])
    const sum = most('tcp_rmem') + most('tcp_wmem')
    if (Number.isFinite(sum)) return sum
  } catch {}
  return 64 * 1024 * 1024
}

/**
 * A TCP relay in front of a server, for a client that stops reading its socket or drops it without a word (as
 * a TLS peer can): the server sees the same connection either way, whatever the client's own stack does.
 */
export interface TcpRelay {
  /** Where clients connect instead of the server. */
  readonly port: number
  /** Stops reading what the server sends on every connection so far: the server's writes back up in the kernel. */
  stopReading (): void
  /** Destroys the server's side of every connection so far, unread bytes and all. */
  drop (): void
}

/** A relay to 127.0.0.1:`port`, closed with everything it relays at the end of `t`. */
export async function tcpRelay (t: Test, port: number): Promise<TcpRelay> {
  const upstreams: Socket[] = []
  const relay = createServer((client) => {
    const upstream = connectTcp(port, '127.0.0.1')
    upstreams.push(upstream)
    client.pipe(upstream).pipe(client)
    client.on('error', () => {})
    upstream.on('error', () => {})
    client.on('close', () => upstream.destroy())
  })
  relay.listen(0, '127.0.0.1')
  await once(relay, 'listening')
  t.teardown(() => {
    for (const upstream of upstreams) upstream.destroy()
    relay.close()
  })
  return {
    port: (relay.address() as AddressInfo).port,
    stopReading: () => {
      for (const upstream of upstreams) {
        upstream.unpipe()
        upstream.pause()
      }
    },
    drop: () => { for (const upstream of upstreams) upstream.destroy() }
  }
}
