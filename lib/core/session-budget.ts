// The push streams of one HTTP/2 connection, and what they may hold unsent between them. Node counts every byte
// queued on a session's streams against its maxSessionMemory (10 MB unless the server sets more) and, while over,
// refuses each new stream of that connection with RST_STREAM (ENHANCE_YOUR_CALM): a page's next image, its API
// calls. A push stream holds at most one part, yet twelve streams of 1 MB frames on a slow connection are over.
// One connection may carry thousands of streams, so nothing here looks at all of them per part: the total is kept
// as it changes, and a connection that has stopped taking bytes is let go as a whole.
import type { Http2Session, ServerHttp2Stream } from 'node:http2'
import { tcpSocketOf } from './node-internals.js'

/**
 * Unsent bytes the push streams of one session may hold before another part is written to any of them. A stream
 * checks right before it writes, so a session holds at most this plus one part: under Node's default
 * maxSessionMemory with parts of up to 5 MB.
 */
export const SESSION_BUDGET_BYTES = 4 * 1024 * 1024

/**
 * How often a session that holds its budget is looked at again while streams wait for it. Its streams' 'drain'
 * and 'close' wake them sooner, but a stream holding less than its highWaterMark never emits 'drain'.
 */
const RECHECK_MS = 25

/**
 * How long a session with streams reset and not closed yet may go without handing on a byte. A reset goes out
 * on the connection behind what is already being written: on one that takes nothing (a client that stopped
 * reading its socket, or is gone without a word, as a TLS peer can be) it never goes, and its streams, their
 * buffers and the socket would stay until the process ends. Such a session is destroyed, every stream at once.
 */
const RESET_GRACE_MS = 2000

/** One push stream of a session: its writableLength when last looked at (its share of `held`), and how it is cut. */
interface Counted {
  length: number
  readonly stalled: () => void
}

/** The push streams of one session, as the HTTP/2 sink of each of them sees them (http2-sink.ts). */
export class SessionStreams {
  private readonly counted = new Map<ServerHttp2Stream, Counted>()
  /** What the push streams hold unsent, as last looked at: never less than they hold, as every write is noted. */
  private held = 0
  /** Bytes the push streams have been seen to hand on (their buffers shrinking): grows while the session moves. */
  private handedOn = 0

  /** A count that grows whenever a push stream of the session hands bytes on: the session's progress. */
  get passed (): number {
    return this.handedOn
  }

  /** At most one wait per stream: a stream writes one part at a time. */
  private readonly waiting = new Map<ServerHttp2Stream, () => void>()
  private recheck: NodeJS.Timeout | undefined
  /** Streams reset and not closed yet; `passed` when they were last seen to move, and when that is looked at again. */
  private readonly resets = new Set<ServerHttp2Stream>()
  private passedAtReset = 0
  private resetCheck: NodeJS.Timeout | undefined

  constructor (private readonly session: Http2Session) {}

  /** How many push streams the session carries. */
  get size (): number {
    return this.counted.size
  }

  /** Counts `stream` in from now until it closes; `stalled` ends its push stream when the session is cut. */
  join (stream: ServerHttp2Stream, stalled: () => void): void {
    const counted: Counted = { length: 0, stalled }
    this.counted.set(stream, counted)
    this.note(stream)
    const drained = (): void => {
      this.note(stream)
      this.check()
    }
    stream.on('drain', drained)
    stream.once('close', () => {
      this.held -= counted.length
      this.counted.delete(stream)
      this.waiting.delete(stream)
      stream.off('drain', drained)
      if (this.resets.delete(stream) && this.resets.size === 0) {
        clearTimeout(this.resetCheck)
        this.resetCheck = undefined
      }
      this.check()
    })
  }

  /** Takes `stream`'s buffered length into the total: a constant cost, whatever the number of streams. */
  note (stream: ServerHttp2Stream): void {
    const counted = this.counted.get(stream)
    // Every caller notes an open stream (its push stream ends as it closes); the guard keeps a later one from
    // counting a closed stream back in.
    /* c8 ignore next */
    if (counted === undefined) return
    const was = counted.length
    const now = stream.writableLength
    counted.length = now
    this.held += now - was
    if (now < was) this.handedOn += was - now
  }

  /** Whether the session holds its budget: no push stream of it takes another part until it drains. */
  full (): boolean {
    return this.held >= SESSION_BUDGET_BYTES
  }

  /** Calls `wake` once, when the session may be under its budget again (unless `stream` closes first). */
  wait (stream: ServerHttp2Stream, wake: () => void): void {
    this.waiting.set(stream, wake)
    this.recheck ??= setInterval(this.looked, RECHECK_MS).unref()
  }

  /** Stops `stream`'s wait; nothing when there is none. */
  stopWaiting (stream: ServerHttp2Stream): void {
    this.waiting.delete(stream)
    this.settle()
  }

  /**
   * Cuts the session as a whole: it holds its budget and none of its push streams has moved for a stall
   * timeout, so none can be sent another part. Each push stream still open ends as stalled (one log line each,
   * no stream left waiting for a wake that would only let it fill the session again), then the session is
   * destroyed: its socket and every stream of it go at once, resets that could not go out included.
   */
  stall (): void {
    for (const [stream, { stalled }] of [...this.counted]) {
      if (!stream.writableEnded) stalled()
    }
    destroyWithSocket(this.session)
  }

  /** Resets `stream`; the session is destroyed if it then hands on nothing for RESET_GRACE_MS. */
  reset (stream: ServerHttp2Stream, code: number): void {
    stream.close(code)
    this.resets.add(stream)
    if (this.resetCheck !== undefined) return
    this.passedAtReset = this.passed
    this.resetCheck = setTimeout(this.resetsDue, RESET_GRACE_MS).unref()
  }

  private readonly resetsDue = (): void => {
    this.recount()
    if (this.passed === this.passedAtReset) return destroyWithSocket(this.session)
    /* c8 ignore start */
    // Moving, if slowly: the resets go out once what is being written has gone. (A reset held up behind a write
    // that takes seconds yet moves is the kernel's timing, which no test can make happen on cue.)
    this.passedAtReset = this.passed
    this.resetCheck = setTimeout(this.resetsDue, RESET_GRACE_MS).unref()
  }
  /* c8 ignore stop */

  /** Every stream looked at again: what shrank without a 'drain' (under its highWaterMark) is counted out. */
  private recount (): void {
    for (const stream of this.counted.keys()) this.note(stream)
  }

  private readonly looked = (): void => {
    this.recount()
    this.check()
  }

  /**
   * Wakes waiting streams, first come first, while the session is under budget: each woken one checks again and
   * writes in the same tick, so the loop stops once they have filled it, and the others wait on.
   */
  private readonly check = (): void => {
    for (const [stream, wake] of this.waiting) {
      if (this.full()) break
      this.waiting.delete(stream)
      wake()
    }
    this.settle()
  }

  /** No recheck once nothing waits. */
  private settle (): void {
    if (this.waiting.size > 0) return
    clearInterval(this.recheck)
    this.recheck = undefined
  }
}

/**
 * Destroys `session` and the TCP connection under it. session.destroy() alone waits for what is being written to
 * go out, which a peer that stopped reading never takes: the session, its socket and the fd would stay, and the
 * session would never even emit 'close'. Node's session.socket refuses destroy(), so the TCP socket itself is
 * reset: the session's own in cleartext, the one TLS wraps under TLS (see node-internals.ts).
 */
function destroyWithSocket (session: Http2Session): void {
  tcpSocketOf(session.socket)?.resetAndDestroy()
  session.destroy()
}

const sessions = new WeakMap<Http2Session, SessionStreams>()

/**
 * Counts a push stream on its session from now until it closes, and returns the session's push streams; nothing
 * for a stream already closed.
 */
export function joinSession (stream: ServerHttp2Stream, stalled: () => void): SessionStreams | undefined {
  const { session } = stream
  // A stream starts while open; its session is gone only once it is destroyed.
  /* c8 ignore next */
  if (session === undefined) return undefined
  let streams = sessions.get(session)
  if (streams === undefined) sessions.set(session, streams = new SessionStreams(session))
  streams.join(stream, stalled)
  return streams
}

/** How many push streams `stream`'s session carries now. */
export function pushStreamsOnSession (stream: ServerHttp2Stream): number {
  const { session } = stream
  return session === undefined ? 0 : sessions.get(session)?.size ?? 0
}
