// Node's internals the library reaches into (lib/core/node-internals.ts), checked on real servers of the Node
// running this test: each fails here, naming what moved, where a Node release has moved one, rather than leave
// the library on its quiet fallback.
import { once } from 'node:events'
import http, { type IncomingMessage } from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import t from 'tap'
import { httpServerListeners, libuvQueuedBytes, tcpSocketOf } from '../lib/core/node-internals.js'
import { kernelBufferLimit } from './helpers/full-socket.js'
import { certificate } from './helpers/protocols.js'

/** The events connection.ts takes Node's HTTP server off. */
const SERVER_EVENTS = ['data', 'end', 'drain']

/** Sends one request to `server` on a free port of 127.0.0.1 with `get`, reads its response, and closes the server. */
async function oneRequest (server: http.Server, get: (port: number) => http.ClientRequest): Promise<void> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const [response] = await once(get((server.address() as AddressInfo).port), 'response') as [IncomingMessage]
  response.resume()
  await once(response, 'end')
  server.close()
  server.closeAllConnections()
}

t.test("Node's HTTP server's own listeners on a connection are found by their names", async (t) => {
  const { cert, key } = certificate()
  const servers = [
    { name: 'node:http', server: http.createServer(), get: (port: number) => http.get({ port, host: '127.0.0.1' }) },
    { name: 'node:https', server: https.createServer({ cert, key }), get: (port: number) => https.get({ port, host: '127.0.0.1', ca: cert }) }
  ]
  for (const { name, server, get } of servers) {
    server.on('request', (req: IncomingMessage, res: http.ServerResponse) => {
      for (const event of SERVER_EVENTS) {
        const found = httpServerListeners(req.socket, event)
        t.equal(found.length, 1, `${name}: Node's HTTP server listens for '${event}' on the socket with a function named 'bound socketOn…' (connection.ts takes it off a stream's connection by that name)`)
        t.ok(found.every((listener) => req.socket.listeners(event).includes(listener)), `${name}: it is the socket's own '${event}' listener`)
      }
      res.end('ok')
    })
    await oneRequest(server, get)
  }
})

t.test("libuv's write queue of a socket is read: bytes the kernel has not taken, back to 0 once they are", async (t) => {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1')
  t.teardown(() => client.destroy())
  const [socket] = await once(server, 'connection') as [net.Socket]
  t.teardown(() => socket.destroy())
  t.equal(libuvQueuedBytes(socket), 0, 'nothing queued on a socket nothing was written to')
  // The client, in this process, reads nothing until the writes below are done: past what the kernel buffers for
  // the connection, libuv queues the rest.
  const chunk = Buffer.alloc(1024 * 1024)
  const limit = kernelBufferLimit() + chunk.length
  let written = 0
  while (written <= limit && libuvQueuedBytes(socket) === 0) {
    socket.write(chunk)
    written += chunk.length
  }
  t.ok(libuvQueuedBytes(socket) > 0, `libuv's queue (_handle.writeQueueSize) holds what the kernel could not take of ${written} bytes written at once (the stall watch sees a slow reader progress by it)`)
  client.resume()
  await once(socket, 'drain')
  t.equal(libuvQueuedBytes(socket), 0, 'and nothing once the client has read it all')
})

t.test('the TCP socket under an HTTP/2 session is found, and can be reset, in cleartext and under TLS', async (t) => {
  const { cert, key } = certificate()
  for (const secure of [false, true]) {
    const server = secure ? http2.createSecureServer({ cert, key }) : http2.createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.teardown(() => server.close())
    const { port } = server.address() as AddressInfo
    const client = http2.connect(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`, secure ? { ca: cert } : {})
    client.on('error', () => {})
    t.teardown(() => client.destroy())
    const [session] = await once(server, 'session') as [http2.ServerHttp2Session]
    const tcp = tcpSocketOf(session.socket)
    if (tcp === undefined) throw new Error("no TCP socket found under a TLS session's socket (its _parent): session-turns.ts cannot reset a stuck session")
    if (secure) {
      t.ok(tcp instanceof net.Socket && !(tcp instanceof tls.TLSSocket), "under TLS, the socket TLS wraps (the TLS socket's _parent): session-turns.ts resets it to let a stuck session go")
    } else {
      t.equal(tcp, session.socket, "in cleartext, the session's own socket")
    }
    const closed = new Promise((resolve) => client.once('close', resolve))
    tcp.resetAndDestroy()
    await closed
    t.pass(`${secure ? 'TLS' : 'cleartext'}: the reset closes the client's session`)
  }
})
