// A socket the client stopped reading, seen full from the server's side: how tests make one full whatever the
// kernel buffers, which differ from machine to machine by tens of MiB.
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { LiveSource } from '../../lib/index.js'

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
