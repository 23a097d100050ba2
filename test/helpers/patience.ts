// How long a test waits for something that should come before calling it a hang. Never a speed bound: a slow or
// busy machine must stay well inside it, and a test that needs a different bound says why.
export const PATIENCE_MS = 60_000
