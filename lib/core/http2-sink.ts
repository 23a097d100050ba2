// HTTP/2, all it does differently from HTTP/1: a push stream's response starts with a HEADERS frame on the
// request's own stream, which is the stream's sink; no response carries a connection-specific field (RFC 9113,
// 8.2.2); and a stream shares its connection, a session, with others: it writes a part at its turn among the
// session's push streams (session-turns.ts), is cut by a reset that leaves the connection carrying on, and its
// connection is let go with GOAWAY as the server closes.
import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import type { HeaderList } from './headers.js'
import type { PlainResponse } from './plain-response.js'
import { joinSession, type SessionStreams } from './session-turns.js'
import { END_GRACE_MS, Sink, type ResponseStart } from './sink.js'
import { limitUnsent } from './unsent-limit.js'

/** Fields that describe one HTTP/1 connection, which an HTTP/2 response must not carry (RFC 9113, 8.2.2). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

class Http2StreamSink extends Sink<ServerHttp2Stream> {
  /** The push streams of the stream's session, from `join` on; kept past the stream's close, so that a wait can still be stopped. */
  private sessionStreams: SessionStreams | undefined

  /**
   * Written with a callback (one per sink) that tells the session when the bytes are handed on: its next turn. Every
   * write of the stream goes through here, closing parts too, so the session sees every byte its streams hand on.
   */
  override write (chunk: Buffer): void {
    this.out.write(chunk, this.written)
  }

  private readonly written = (): void => {
    this.sessionStreams?.moved(this.out)
  }

  /** The stream's own buffer is full, or it is not the stream's turn: a part of its session is in flight. */
  full (): boolean {
    return this.out.writableNeedDrain || this.sessionStreams?.full() === true
  }

  /**
   * Waits for the stream's turn, also when its own buffer is full: Node emits 'drain' before the write's callback,
   * so a stream woken by its own 'drain' would write again before its session could give the next stream its turn.
   */
  whenRoom (wake: () => void): void {
    this.sessionStreams?.wait(this.out, wake)
  }

  stopWaitingForRoom (): void {
    this.sessionStreams?.stopWaiting(this.out)
  }

  noteWrite (): void {
    this.sessionStreams?.note(this.out)
  }

  /**
   * Resets the stream: RST_STREAM with CANCEL, so the client can tell it from a stream that ended, and its
   * connection carries on, unless the reset cannot go out on it (see session-turns.ts).
   */
  cut (): void {
    const { sessionStreams, out } = this
    if (sessionStreams !== undefined && !out.closed) sessionStreams.reset(out, constants.NGHTTP2_CANCEL)
    // Closed already (the client reset it, or its session went), or never counted: nothing to wait for.
    else out.close(constants.NGHTTP2_CANCEL)
  }

  /** Counts the stream on its session: before its first part, so that a connection's streams are known whatever their sources do. */
  join (stalled: () => void): void {
    this.sessionStreams = joinSession(this.out, stalled)
  }

  roomToClose (): boolean {
    return this.sessionStreams?.roomToClose() !== false
  }

  passed (): number | undefined {
    return this.sessionStreams?.passed
  }

  /** 0: an HTTP/2 stream has no queue of its own under Node's buffer; its session's progress is `passed`. */
  queuedBytes (): number {
    return 0
  }

  /** A session that holds its streams back as a whole and has not moved is stuck, whichever of its streams sees it. */
  cutStuckConnection (moved: boolean): boolean {
    const { sessionStreams } = this
    if (moved || sessionStreams?.holdsBack() !== true) return false
    sessionStreams.stall()
    return true
  }

  /**
   * Tells the session to go away (GOAWAY), or a server's close() would wait for it until the session times out
   * (Fastify closes sessions itself only with forceCloseConnections, on Node before 24).
   */
  closeConnection (): void {
    const { session } = this.out
    if (session === undefined || session.closed) return
    session.close()
    // A session whose client went away as the server closed can be left waiting for streams that never finish
    // closing: it is destroyed after the grace its streams get.
    const timer = setTimeout(() => session.destroy(), END_GRACE_MS)
    session.once('close', () => clearTimeout(timer))
  }
}

/** An HTTP/2 response's header block: no connection-specific field. */
function http2Headers (status: number, contentType: string, headers: HeaderList): OutgoingHttpHeaders {
  const fields: Record<string, string | string[]> = { ':status': String(status), 'content-type': contentType }
  for (const [name, value] of headers) {
    const key = name.toLowerCase()
    if (CONNECTION_SPECIFIC.has(key)) continue
    const had = fields[key]
    fields[key] = had === undefined ? value : [had, value].flat()
  }
  return fields
}

/**
 * Starts the response on the request's `stream` and returns the stream's sink;
 * `undefined` when nothing more is to be written: a HEAD request (its head is all it gets), or a stream the client
 * has reset already.
 */
export function startHttp2Stream (stream: ServerHttp2Stream, start: ResponseStart): Sink | undefined {
  const { session } = stream
  // Reset by the client while the request was in hooks (a stream's session is gone only once it is destroyed).
  if (stream.destroyed || stream.closed || session === undefined) return undefined
  const head = http2Headers(200, start.contentType, start.headers)
  if (start.headOnly) {
    stream.respond(head, { endStream: true })
    return undefined
  }
  limitUnsent(session.socket, start.log)
  stream.respond(head)
  const sink = new Http2StreamSink(stream)
  sink.write(start.opening)
  return sink
}

/** `response` as it may go out over HTTP/2: without connection-specific fields. */
export function forHttp2 (response: PlainResponse): PlainResponse {
  return { ...response, headers: response.headers.filter(([name]) => !CONNECTION_SPECIFIC.has(name.toLowerCase())) }
}
