// HTTP/1, all it does differently from HTTP/2: a push stream's response is written on the socket the route takes
// over from Node's HTTP server, head and all, and that socket is the stream's sink. A socket carries one stream
// and is its own connection: the kernel holds little of it (unsent-limit.ts), it is cut by destroying it, its own
// buffer says when it is full, and the client half-closing it means the client has left.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { carriesStream } from './connection.js'
import { libuvQueuedBytes } from './node-internals.js'
import { Sink, type ResponseStart } from './sink.js'
import { limitUnsent } from './unsent-limit.js'
import { responseHead } from './wire.js'

class SocketSink extends Sink<Socket> {
  /** The end of what a socket's client sends means it has left: it half-closed. */
  override onClientGone (gone: () => void): void {
    super.onClientGone(gone)
    this.out.on('end', gone)
  }

  override offClientGone (gone: () => void): void {
    super.offClientGone(gone)
    this.out.off('end', gone)
  }

  full (): boolean {
    return this.out.writableNeedDrain
  }

  whenRoom (wake: () => void): void {
    this.out.once('drain', wake)
  }

  stopWaitingForRoom (wake: () => void): void {
    this.out.off('drain', wake)
  }

  noteWrite (): void {}

  cut (): void {
    this.out.destroy()
  }

  join (): void {}

  connectionFull (): boolean {
    return false
  }

  roomToClose (): boolean {
    return true
  }

  /** 0: the socket's own buffer and libuv's queue say all its progress. */
  passed (): number {
    return 0
  }

  queuedBytes (): number {
    return libuvQueuedBytes(this.out)
  }

  cutStuckConnection (): boolean {
    return false
  }

  /** `end` closes the socket already. */
  closeConnection (): void {}
}

/**
 * Starts the response of `req` on its socket, taken over from Node's HTTP server, and returns the socket's sink;
 * `undefined` when nothing more is to be written: a HEAD request (its head is all it gets), or a connection that
 * also carries a later request (then closed).
 */
export function startSocketStream (req: IncomingMessage, start: ResponseStart): Sink | undefined {
  const socket = req.socket as Socket
  const sink = new SocketSink(socket)
  const head = Buffer.from(responseHead(req.httpVersion === '1.0' ? '1.0' : '1.1', start.contentType, start.headers), 'latin1')
  if (start.headOnly) {
    sink.end([head])
    return undefined
  }
  if (!carriesStream(req)) {
    start.log.debug({ route: start.route }, 'server push request with another pipelined behind it: connection closed')
    return undefined
  }
  limitUnsent(socket, start.log)
  sink.cork()
  sink.write(head)
  sink.write(start.opening)
  sink.uncork()
  return sink
}
