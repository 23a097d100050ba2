// The push streams of one HTTP/2 connection, which take turns. A session sends whole parts one at a time: the
// stream whose turn it is writes its newest frame, and the next writes once Node has handed that part to the kernel
// (which holds little of it: unsent-limit.ts). Twelve streams side by side would each wait for all twelve parts to
// arrive, every picture as old as twelve; in turn, each arrives as fast as the link moves one, and a session holds
// what the link takes rather than a fixed budget. Turns also keep a client that does not ask for interleaved
// responses (RFC 9218) from getting one stream's parts only. One connection may carry thousands of streams, so
// nothing here looks at all of them per part: what they hold is kept as it changes, and a connection that has
// stopped taking bytes is let go as a whole.
import type { Http2Session, ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import { libuvQueuedBytes, tcpSocketOf } from './node-internals.js'

/**
 * Unsent bytes the push streams of one session may hold, parked parts and closing parts included: no part is
 * written to a session that holds it, and a stream that ends is reset rather than sent its closing part. A stream
 * checks right before it writes, so a session holds at most this plus one part. Node counts every byte queued on a session's streams against its
 * maxSessionMemory (10 MB unless the server sets more) and, while over, refuses each new stream of that
 * connection with RST_STREAM (ENHANCE_YOUR_CALM): a page's next image, its API calls. Twelve streams of 1 MB frames
 * ending together on a slow connection would be over.
 */
export const SESSION_BUDGET_BYTES = 4 * 1024 * 1024

/**
 * How long a session with streams reset and not closed yet may go without handing on a byte. A reset goes out
 * on the connection behind what is already being written: on one that takes nothing (a client that stopped
 * reading its socket, or is gone without a word, as a TLS peer can be) it never goes, and its streams, their
 * buffers and the socket would stay until the process ends. Such a session is destroyed, every stream at once.
 */
const RESET_GRACE_MS = 2000

/**
 * How often a session with streams waiting for their turn looks at the parts in flight. A part whose client stopped
 * reading its stream waits for that stream's flow-control window, not for the link, and would hold every turn of
 * the session: such parts are set aside (parked) once a look finds that no part was handed on since the last one
 * while the socket has nothing queued, which a link that moves never shows for long.
 */
const LOOK_MS = 100

/**
 * One push stream of a session: its writableLength when last looked at (its share of `held`), whether its part
 * waits for its own flow-control window (then not counted as in flight), and how it is cut.
 */
interface Counted {
  length: number
  parked: boolean
  readonly stalled: () => void
}

/** The push streams of one session, as the HTTP/2 sink of each of them sees them (http2-sink.ts). */
export class SessionStreams {
  private readonly counted = new Map<ServerHttp2Stream, Counted>()
  /** What the push streams hold unsent, as last looked at: never less than they hold, as every write is noted. */
  private held = 0
  /** What of `held` is in flight: the bytes of streams not parked. */
  private flowing = 0
  /** Bytes the push streams have been seen to hand on (their buffers shrinking): grows while the session moves. */
  private handedOn = 0

  /** A count that grows whenever a push stream of the session hands bytes on: the session's progress. */
  get passed (): number {
    return this.handedOn
  }

  /** Streams waiting for their turn, in the order they came: the first is woken first. */
  private readonly waiting = new Map<ServerHttp2Stream, () => void>()
  /** Looks at the parts in flight while streams wait, and `passed` at the last look. */
  private looks: NodeJS.Timeout | undefined
  private passedAtLook = 0
  /** The TCP socket under the session, whose queue tells whether the session writes anything. */
  private readonly tcp: Socket | undefined
  /** Streams reset and not closed yet; `passed` when they were last seen to move, and when that is looked at again. */
  private readonly resets = new Set<ServerHttp2Stream>()
  private passedAtReset = 0
  private resetCheck: NodeJS.Timeout | undefined

  constructor (private readonly session: Http2Session) {
    this.tcp = tcpSocketOf(session.socket)
  }

  /** How many push streams the session carries. */
  get size (): number {
    return this.counted.size
  }

  /** Counts `stream` in from now until it closes; `stalled` ends its push stream when the session is cut. */
  join (stream: ServerHttp2Stream, stalled: () => void): void {
    const counted: Counted = { length: 0, parked: false, stalled }
    this.counted.set(stream, counted)
    this.note(stream)
    stream.once('close', () => {
      this.held -= counted.length
      if (!counted.parked) this.flowing -= counted.length
      this.counted.delete(stream)
      this.waiting.delete(stream)
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
    if (now < was) {
      this.handedOn += was - now
      // A parked part that moves is in flight again: its client reads its stream.
      if (counted.parked) {
        counted.parked = false
        this.flowing += was
      }
    }
    if (!counted.parked) this.flowing += now - was
  }

  /**
   * Whether no part may be written now: one is in flight (Node holds bytes of a push stream not parked), or the
   * session holds its budget.
   */
  full (): boolean {
    return this.flowing > 0 || this.held >= SESSION_BUDGET_BYTES
  }

  /**
   * Whether the session as a whole holds its streams back: its socket cannot write the part in flight, or it holds
   * its budget. A part in flight on a socket with nothing queued waits for its own stream's client alone.
   */
  holdsBack (): boolean {
    return (this.flowing > 0 && this.writing()) || this.held >= SESSION_BUDGET_BYTES
  }

  /** Whether a stream that ends may still be sent its closing part: the session holds less than its budget. */
  roomToClose (): boolean {
    return this.held < SESSION_BUDGET_BYTES
  }

  /** `stream` handed bytes on (a write of it completed): counted, and the next stream's turn comes if it is due. */
  moved (stream: ServerHttp2Stream): void {
    this.note(stream)
    this.check()
  }

  /** Calls `wake` once, at `stream`'s turn (unless it closes first). */
  wait (stream: ServerHttp2Stream, wake: () => void): void {
    this.waiting.set(stream, wake)
    this.looks ??= setInterval(this.look, LOOK_MS).unref()
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
    if (this.passed === this.passedAtReset) return destroyWithSocket(this.session)
    /* c8 ignore start */
    // Moving, if slowly: the resets go out once what is being written has gone. (A reset held up behind a write
    // that takes seconds yet moves is the kernel's timing, which no test can make happen on cue.)
    this.passedAtReset = this.passed
    this.resetCheck = setTimeout(this.resetsDue, RESET_GRACE_MS).unref()
  }
  /* c8 ignore stop */

  /**
   * Wakes waiting streams, first come first, while no part is in flight: a woken one that writes does so in the
   * same tick, so the loop stops at the first that writes, and the others wait on; it waits again at the end of
   * the line, so streams take turns.
   */
  private check (): void {
    for (const [stream, wake] of this.waiting) {
      if (this.full()) break
      // A stream whose own part has not gone yet (parked, or its callback still to come) waits on; its write's
      // callback looks again. Woken, it would only wait again, at the end of the line this loop is walking.
      if (stream.writableNeedDrain) continue
      this.waiting.delete(stream)
      wake()
    }
    this.settle()
  }

  /** No looks once nothing waits. */
  private settle (): void {
    if (this.waiting.size > 0) return
    clearInterval(this.looks)
    this.looks = undefined
  }

  /** Parks the parts in flight if none was handed on since the last look and the socket has nothing to write. */
  private readonly look = (): void => {
    const moved = this.passed !== this.passedAtLook
    this.passedAtLook = this.passed
    if (moved || this.writing()) return
    for (const counted of this.counted.values()) {
      if (counted.parked || counted.length === 0) continue
      counted.parked = true
      this.flowing -= counted.length
    }
    this.check()
  }

  /** Whether the session's socket has bytes queued that the kernel has not taken. */
  private writing (): boolean {
    // Found on every Node this package supports (tcpSocketOf); without it no part is parked, and a stream whose
    // client stopped reading holds its session's turns until it is cut off.
    /* c8 ignore next */
    if (this.tcp === undefined) return true
    return libuvQueuedBytes(this.tcp) > 0
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
