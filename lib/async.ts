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

/** `promise`'s outcome, or `undefined` when `signal` aborts first; a later rejection is then ignored. */
export async function settle<T> (promise: PromiseLike<T>, signal: AbortSignal): Promise<{ value: T } | { error: unknown } | undefined> {
  let outcome: { value: T } | { error: unknown } | undefined
  await waitFor(signal, (wake) => {
    promise.then((value) => { outcome = { value }; wake() }, (error: unknown) => { outcome = { error }; wake() })
    return noop
  })
  return outcome
}
