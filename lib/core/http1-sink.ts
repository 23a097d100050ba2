// HTTP/1, all it does differently from HTTP/2: a push stream's response is written on the socket the route takes
// over from Node's HTTP server, head and all, and that socket is the stream's sink. A socket carries one stream and
// is its own connection: the kernel holds little of it (unsent-limit.ts), it is cut by destroying it, it is full
// while Node holds any of its bytes, and the client half-closing it means the client has left. A route's `chunked`
// setting sends an HTTP/1.1 body in chunks rather than delimited by the close (ChunkedSocketSink).
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { carriesStream } from './connection.js'
import { libuvQueuedBytes } from './node-internals.js'
import { Sink, type ResponseStart } from './sink.js'
import { limitUnsent } from './unsent-limit.js'
import { responseHead } from './wire.js'

/** Written to learn when Node has handed a socket's earlier writes to the kernel: no bytes on the wire. */
const NOTHING = Buffer.alloc(0)

class SocketSink extends Sink<Socket> {
  private waiting: (() => void) | undefined
  private waking: NodeJS.Immediate | undefined

  /** The end of what a socket's client sends means it has left: it half-closed. */
  override onClientGone (gone: () => void): void {
    super.onClientGone(gone)
    this.out.on('end', gone)
  }

  override offClientGone (gone: () => void): void {
    super.offClientGone(gone)
    this.out.off('end', gone)
  }

  /**
   * Node has handed on what the socket held: the stream waiting for room (`whenRoom`) is woken in the next turn of
   * the event loop. Over TLS Node calls this from an immediate of its own, and a write made there completes in
   * that same turn: a stream woken at once, writing a part of a source that never waits, would go on part after
   * part in one turn, holding every other client up, until the kernel took no more.
   */
  private readonly written = (error?: Error | null): void => {
    const { waiting } = this
    // A failed write ends the stream as its socket closes.
    if (waiting === undefined || error != null) return
    this.waiting = undefined
    this.waking = setImmediate(waiting)
  }

  /**
   * Node still holds bytes of an earlier write, which the kernel would not take yet (unsent-limit.ts), or TLS has
   * not finished handing on (it does a moment after each write): the next part waits where the newest frame
   * replaces it. Not the socket's highWaterMark (64 KiB from Node 22 on), under which Node would queue parts
   * behind one another, each as old as the link is slow.
   */
  full (): boolean {
    return this.out.writableLength > 0
  }

  /**
   * Writes nothing, with a callback: Node calls it once every write before it is handed on. Node emits 'drain'
   * only after a write that reached the socket's highWaterMark, which a smaller part never does; and a callback on
   * every write would cost each viewer's every part, where this costs a part that has to wait (over TLS, each of a
   * pull route's, as a part's write finishes a moment after it). A wake may come with bytes held again: the
   * stream checks `full` once more.
   */
  whenRoom (wake: () => void): void {
    this.waiting = wake
    this.out.write(NOTHING, this.written)
  }

  stopWaitingForRoom (): void {
    this.waiting = undefined
    clearImmediate(this.waking)
  }

  noteWrite (): void {}

  cut (): void {
    this.out.destroy()
  }

  join (): void {}

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

const CRLF = Buffer.from('\r\n', 'latin1')
/** The zero-size chunk: the end of a chunked body (RFC 9112, 7.1), written once, as the socket ends. */
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')

// The chunk-size lines of the last two sizes written: every viewer of a route is written the same part in turn,
// and two routes (two chunked streams of different sizes) taking turns would otherwise make a line per write.
let lastSize = -1
let lastSizeLine = CRLF
let otherSize = -1
let otherSizeLine = CRLF

/** A chunk's size line, `<hex size>CRLF`, made once for the writes of one of the last two sizes. */
function sizeLine (size: number): Buffer {
  if (size === lastSize) return lastSizeLine
  const line = size === otherSize ? otherSizeLine : Buffer.from(`${size.toString(16)}\r\n`, 'latin1')
  otherSize = lastSize
  otherSizeLine = lastSizeLine
  lastSize = size
  lastSizeLine = line
  return line
}

/**
 * A socket whose body goes out with chunked transfer coding: each write of some bytes is one chunk, its size
 * line and CRLF around the same shared buffers in one corked write, so a part is one chunk whatever its layout,
 * and the multipart bytes inside are those of the close-delimited body. The bytes counted are those multipart
 * bytes.
 */
class ChunkedSocketSink extends SocketSink {
  // Nothing to write is no chunk: a chunk of size 0 is the last one, which ends the body.
  override write (chunk: Buffer): void {
    if (chunk.length === 0) return
    const { out } = this
    out.cork()
    out.write(sizeLine(chunk.length))
    out.write(chunk)
    out.write(CRLF)
    out.uncork()
  }

  override writeAll (chunks: readonly Buffer[]): number {
    let bytes = 0
    for (const chunk of chunks) bytes += chunk.length
    if (bytes === 0) return 0
    const { out } = this
    out.cork()
    out.write(sizeLine(bytes))
    for (const chunk of chunks) out.write(chunk)
    out.write(CRLF)
    out.uncork()
    return bytes
  }

  protected override finish (): void {
    this.out.end(LAST_CHUNK)
  }
}

/**
 * Starts the response of `req` on its socket, taken over from Node's HTTP server, and returns the socket's sink;
 * `undefined` when nothing more is to be written: a HEAD request (its head is all it gets), or a connection that
 * also carries a later request (then closed).
 */
export function startSocketStream (req: IncomingMessage, start: ResponseStart): Sink | undefined {
  const socket = req.socket as Socket
  const version = req.httpVersion === '1.0' ? '1.0' : '1.1'
  // HTTP/1.0 knows no chunks: its body is close-delimited whatever the setting.
  const chunked = start.chunked && version === '1.1'
  const head = Buffer.from(responseHead(version, start.contentType, start.headers, chunked), 'latin1')
  if (start.headOnly) {
    // The head a GET would get, Transfer-Encoding included, and no body: not even the last chunk.
    new SocketSink(socket).end([head])
    return undefined
  }
  if (!carriesStream(req)) {
    start.log.debug({ route: start.route }, 'server push request with another pipelined behind it: connection closed')
    return undefined
  }
  limitUnsent(socket, start.log)
  const sink = chunked ? new ChunkedSocketSink(socket) : new SocketSink(socket)
  socket.cork()
  socket.write(head)
  sink.write(start.opening)
  socket.uncork()
  return sink
}
