// What the push streams of one HTTP/2 connection may hold unsent between them. Node counts every byte queued on a
// session's streams against its maxSessionMemory (10 MB unless the server sets more) and, while over, refuses
// each new stream of that connection with RST_STREAM (ENHANCE_YOUR_CALM): a page's next image, its API calls. A
// push stream holds at most one part, yet twelve streams of 1 MB frames on a slow connection are over.
import type { Http2Session, ServerHttp2Stream } from 'node:http2'

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

class SessionBudget {
  private readonly streams = new Set<ServerHttp2Stream>()
  /** At most one wait per stream: a stream writes one part at a time. */
  private readonly waiting = new Map<ServerHttp2Stream, () => void>()
  private recheck: NodeJS.Timeout | undefined

  /** Counts `stream` in from now until it closes. */
  join (stream: ServerHttp2Stream): void {
    this.streams.add(stream)
    stream.on('drain', this.check)
    stream.once('close', () => {
      this.streams.delete(stream)
      this.waiting.delete(stream)
      stream.off('drain', this.check)
      this.check()
    })
  }

  full (): boolean {
    let held = 0
    for (const stream of this.streams) {
      held += stream.writableLength
      if (held >= SESSION_BUDGET_BYTES) return true
    }
    return false
  }

  wait (stream: ServerHttp2Stream, wake: () => void): void {
    this.waiting.set(stream, wake)
    this.recheck ??= setInterval(this.check, RECHECK_MS).unref()
  }

  stopWaiting (stream: ServerHttp2Stream): void {
    this.waiting.delete(stream)
    this.settle()
  }

  /** Wakes every waiting stream once the session is under budget again; each checks again before it writes. */
  private readonly check = (): void => {
    if (this.waiting.size > 0 && !this.full()) {
      const waking = [...this.waiting.values()]
      this.waiting.clear()
      for (const wake of waking) wake()
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

const sessionBudgets = new WeakMap<Http2Session, SessionBudget>()
/** Kept past the stream's close, when it no longer knows its session, so that a wait can still be stopped. */
const streamBudgets = new WeakMap<ServerHttp2Stream, SessionBudget>()

/** The budget of `stream`'s session, the stream counted in until it closes; none for a stream first seen closed. */
function budgetOf (stream: ServerHttp2Stream): SessionBudget | undefined {
  let budget = streamBudgets.get(stream)
  if (budget !== undefined) return budget
  const { session } = stream
  // Every push stream asks while it is open, before it writes its first part.
  /* c8 ignore next */
  if (session === undefined) return undefined
  budget = sessionBudgets.get(session)
  if (budget === undefined) sessionBudgets.set(session, budget = new SessionBudget())
  budget.join(stream)
  streamBudgets.set(stream, budget)
  return budget
}

/** Whether `stream`'s session holds its budget: no push stream of it takes another part until it drains. */
export function sessionFull (stream: ServerHttp2Stream): boolean {
  return budgetOf(stream)?.full() === true
}

/** Calls `wake` once, when `stream`'s session may be under its budget again (unless the stream closes first). */
export function whenSessionHasRoom (stream: ServerHttp2Stream, wake: () => void): void {
  budgetOf(stream)?.wait(stream, wake)
}

/** Stops `stream`'s `whenSessionHasRoom` wait; nothing when there is none. */
export function stopWaitingForSession (stream: ServerHttp2Stream): void {
  streamBudgets.get(stream)?.stopWaiting(stream)
}
