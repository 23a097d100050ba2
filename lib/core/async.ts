// Waiting that can be called off: every wait of a stream ends when the stream's signal aborts, and leaves no
// timer or listener behind.

export function noop (): void {}

export function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}

/** Sets something up that calls `wake` later, and returns how to undo it. */
export type Arm = (wake: () => void) => () => void

/**
 * Resolves once `arm`'s callback fires or `signal` aborts, whichever comes first, and disarms both. Never
 * rejects: the caller looks at whether its stream ended.
 */
export function waitFor (signal: AbortSignal, arm: Arm): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    let disarm = noop
    const wake = (): void => {
      signal.removeEventListener('abort', wake)
      disarm()
      resolve()
    }
    signal.addEventListener('abort', wake)
    disarm = arm(wake)
  })
}

export const nextTurn: Arm = (wake) => {
  const immediate = setImmediate(wake)
  return () => clearImmediate(immediate)
}

export function sleep (ms: number): Arm {
  return (wake) => {
    const timer = setTimeout(wake, ms)
    return () => clearTimeout(timer)
  }
}

/**
 * Calls `iterator.return()`, so the source's `finally` blocks run, and hands a failure, thrown or rejected, to
 * `onError`: a source that cannot stop is reported, not fatal.
 */
export async function stopIterator (iterator: { return?: () => unknown } | undefined, onError: (err: unknown) => void): Promise<void> {
  try {
    await iterator?.return?.()
  } catch (err) {
    onError(err)
  }
}

type Outcome<T> = { value: T } | { error: unknown }

/** A slot for whoever waits on a promise; emptied when they stop waiting. */
interface Box<T> { settled?: ((outcome: Outcome<T>) => void) | undefined }

/** Hands `promise`'s outcome to whoever is in `box` then. Its own scope, so that the handlers a pending promise
 * keeps hold `box` alone, not the waiter's signal or anything else of its caller's scope. */
function forward<T> (promise: PromiseLike<T>, box: Box<T>): void {
  promise.then((value) => box.settled?.({ value }), (error: unknown) => box.settled?.({ error }))
}

/**
 * `promise`'s outcome, or `undefined` when `signal` aborts first; a later rejection is then ignored. A promise
 * that never settles keeps nothing of the caller alive: a viewer gone while its source is stuck is collectable.
 */
export async function settle<T> (promise: PromiseLike<T>, signal: AbortSignal): Promise<Outcome<T> | undefined> {
  const box: Box<T> = {}
  forward(promise, box)
  let outcome: Outcome<T> | undefined
  await waitFor(signal, (wake) => {
    box.settled = (settled) => { outcome = settled; wake() }
    return () => { box.settled = undefined }
  })
  return outcome
}

/** Whether `promise` settles within `ms`; leaves no timer behind either way. */
export async function settlesWithin (promise: PromiseLike<unknown>, ms: number): Promise<boolean> {
  const giveUp = new AbortController()
  const timer = setTimeout(() => giveUp.abort(), ms)
  const outcome = await settle(promise, giveUp.signal)
  clearTimeout(timer)
  return outcome !== undefined
}
