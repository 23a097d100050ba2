// Where a push stream's bytes go, and what every protocol's sink does alike: written and corked as the Duplex
// under it, and ended once, with a grace for the last bytes. What differs between protocols (how a sink
// is cut, what its connection holds, how that connection is let go) each says in its own file: http1-sink.ts
// (the socket taken over from Node's HTTP/1 server) and http2-sink.ts (the request's own HTTP/2 stream), the home
// of whatever else a protocol's connection needs, socket settings included. protocol.ts chooses one per response.
import type { Duplex } from 'node:stream'
import type { HeaderList } from './headers.js'
import type { Logger } from './logger.js'

/** What a response starts with: its Content-Type and other headers, and the first bytes of its body. */
export interface ResponseStart {
  /** The route, as log lines name it. */
  readonly route: string
  readonly log: Logger
  readonly contentType: string
  readonly headers: HeaderList
  /** Written right after the head. */
  readonly opening: Buffer
  /** A HEAD request (client-profile.ts): the head is all it gets. */
  readonly headOnly: boolean
  /** The route's `chunked` setting: an HTTP/1.1 body in chunks. HTTP/1.0 and HTTP/2 ignore it. */
  readonly chunked: boolean
}

/** How long a client that has stopped reading may take to receive the last bytes before it is cut off. */
export const END_GRACE_MS = 2000

/**
 * A stream's destination on its protocol: written to and corked like the Duplex under it (`out`), and
 * cut, ended and let go as its protocol does. What is called per part (`full`, `writeAll`, `noteWrite`) allocates
 * nothing, but for a chunked HTTP/1.1 body's chunk-size line, once per part size (http1-sink.ts).
 */
export abstract class Sink<Out extends Duplex = Duplex> {
  constructor (protected readonly out: Out) {}

  get destroyed (): boolean {
    return this.out.destroyed
  }

  /** Bytes Node holds for the sink, not handed on yet. */
  get writableLength (): number {
    return this.out.writableLength
  }

  /** Whether the sink's own buffer is full: it emits 'drain' once it has room. */
  get writableNeedDrain (): boolean {
    return this.out.writableNeedDrain
  }

  write (chunk: Buffer): void {
    this.out.write(chunk)
  }

  /** Writes `chunks` in one write, corked when there are more than one; returns their bytes. */
  writeAll (chunks: readonly Buffer[]): number {
    if (chunks.length === 1) {
      const chunk = chunks[0]
      this.write(chunk)
      return chunk.length
    }
    let bytes = 0
    this.cork()
    for (const chunk of chunks) {
      this.write(chunk)
      bytes += chunk.length
    }
    this.uncork()
    return bytes
  }

  cork (): void {
    this.out.cork()
  }

  uncork (): void {
    this.out.uncork()
  }

  /** Calls `gone` when the client has left (the sink closed), until `offClientGone(gone)`. */
  onClientGone (gone: () => void): void {
    this.out.on('close', gone)
  }

  offClientGone (gone: () => void): void {
    this.out.off('close', gone)
  }

  /**
   * Writes `chunks` in one go and closes the sink once they are flushed, as Node's HTTP server does for
   * `Connection: close` (without the destroy a client that never closes its side keeps the socket, and a
   * server's close(), waiting). A client that stops reading is cut off after END_GRACE_MS.
   */
  end (chunks: readonly Buffer[]): void {
    const { out } = this
    if (out.destroyed) return
    this.writeAll(chunks)
    this.noteWrite()
    this.finish()
    out.once('finish', () => out.destroy())
    const timer = setTimeout(() => this.cut(), END_GRACE_MS)
    out.once('close', () => clearTimeout(timer))
  }

  /** Ends what the sink writes, once its last bytes are written: a body that needs a last word writes it here. */
  protected finish (): void {
    this.out.end()
  }

  /**
   * Whether the sink has no room for another part now: Node holds what the kernel would not take yet (HTTP/1),
   * or its own buffer or its connection is full (HTTP/2). Checked right before each write, in the same tick.
   */
  abstract full (): boolean

  /** Calls `wake` once, when a full sink may have room again. */
  abstract whenRoom (wake: () => void): void

  /** Stops a `whenRoom` wait; nothing when there is none. */
  abstract stopWaitingForRoom (): void

  /** Takes what was just written into its connection's total; called after each write. */
  abstract noteWrite (): void

  /** Cuts the client off, mid-part if need be. */
  abstract cut (): void

  /** Counts the sink on its connection from now on, `stalled` ending its stream should the connection be cut. */
  abstract join (stalled: () => void): void

  /** Whether the sink's connection may still take a closing part: false, and a stream that ends is cut instead. */
  abstract roomToClose (): boolean

  /**
   * A count that grows whenever the sink's connection hands bytes on, for a stream waiting for its connection
   * rather than for its own buffer (undefined for a sink never counted on one).
   */
  abstract passed (): number | undefined

  /** Bytes handed on from Node's buffer but not yet taken by the kernel: they shrink as a slow client reads. */
  abstract queuedBytes (): number

  /**
   * Cuts the sink's connection as a whole if it is stuck as a whole: it holds all it may and, as `moved` says,
   * has handed nothing on since the stream last looked. Every stream on it then ends as stalled, and true says
   * so; false leaves the stream alone to be cut.
   */
  abstract cutStuckConnection (moved: boolean): boolean

  /** Lets the sink's connection close once what it carries is done, as the server closes. */
  abstract closeConnection (): void
}
