// What the push streams of one HTTP/2 connection may hold unsent between them. Node counts every byte queued on a
// session's streams against its maxSessionMemory (10 MB unless the server sets more) and, while over, refuses
// each new stream of that connection with RST_STREAM (ENHANCE_YOUR_CALM): a page's next image, its API calls. A
// push stream holds at most one part, yet twelve streams of 1 MB frames on a slow connection are over.
import type { Http2Session, ServerHttp2Stream } from 'node:http2'

/**
 * Unsent bytes the push streams of one session may hold before another part is written to any of them. Each
 * check lets one more part through, so a session holds at most this plus its largest part: under Node's default
 * maxSessionMemory with parts of up to 5 MB.
 */
export const SESSION_BUDGET_BYTES = 4 * 1024 * 1024

class SessionBudget {
  private readonly streams = new Set<ServerHttp2Stream>()
  private readonly waiting = new Set<() => void>()

  /** Counts `stream` in from now until it closes. */
  join (stream: ServerHttp2Stream): void {
    if (this.streams.has(stream)) return
    this.streams.add(stream)
    stream.on('drain', this.check)
    stream.once('close', () => {
      this.streams.delete(stream)
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

  wait (wake: () => void): void {
    this.waiting.add(wake)
  }

  stopWaiting (wake: () => void): void {
    this.waiting.delete(wake)
  }

  /** Wakes every waiting stream once the session is under budget again; each checks again before it writes. */
  private readonly check = (): void => {
    if (this.waiting.size === 0 || this.full()) return
    const waking = [...this.waiting]
    this.waiting.clear()
    for (const wake of waking) wake()
  }
}

const budgets = new WeakMap<Http2Session, SessionBudget>()

/** The budget of `stream`'s session, counting the stream in until it closes. */
function budgetOf (stream: ServerHttp2Stream): SessionBudget | undefined {
  const { session } = stream
  // Only once the stream has emitted 'close', by which time its push stream has ended and asks no more.
  /* c8 ignore next */
  if (session === undefined) return undefined
  let budget = budgets.get(session)
  if (budget === undefined) budgets.set(session, budget = new SessionBudget())
  budget.join(stream)
  return budget
}

/** Whether `stream`'s session holds its budget: no stream of it takes another part until it drains. */
export function sessionFull (stream: ServerHttp2Stream): boolean {
  return budgetOf(stream)?.full() === true
}

/** Calls `wake` once, when `stream`'s session is under its budget again. */
export function whenSessionHasRoom (stream: ServerHttp2Stream, wake: () => void): void {
  budgetOf(stream)?.wait(wake)
}

/** Stops a `whenSessionHasRoom` wait; nothing when there is none. */
export function stopWaitingForSession (stream: ServerHttp2Stream, wake: () => void): void {
  const { session } = stream
  if (session !== undefined) budgets.get(session)?.stopWaiting(wake)
}
