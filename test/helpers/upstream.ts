// Upstreams for relay tests: raw node:net servers that write whatever a camera might, and a relay app to read them.
import net from 'node:net'
import type { Test } from 'tap'
import { relay, type RelayOptions } from '../../lib/index.js'
import { startApp } from './app.js'

// Quick retries. The header and idle timeouts keep their defaults, far longer than any machine takes to answer
// on 127.0.0.1: a short one would cut off a camera that is only slow, and fail the test with the wrong error.
// Only the tests of those timeouts shorten them.
export const FAST: RelayOptions = { retryDelayMs: 20, maxRetryDelayMs: 50 }

/** A raw TCP server: `serve` gets each connection and the request head it sent. Closed at the end of `t`. */
export async function rawServer (t: Test, serve: (socket: net.Socket, head: string) => void): Promise<{ port: number, heads: string[], server: net.Server }> {
  const heads: string[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = ''
    socket.on('data', function onData (chunk) {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      heads.push(head)
      serve(socket, head)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  }))
  return { port: (server.address() as net.AddressInfo).port, heads, server }
}

/** A relay app with `/relay` showing `url`. */
export function relayApp (t: Test, url: string, options: RelayOptions = FAST): ReturnType<typeof startApp> {
  return startApp(t, { routes: [{ path: '/relay', source: relay(url, options) }] })
}
