// What a test does with a browser's page, whichever browser drives it (browsers.ts, webkit.ts).

export interface BrowserPage {
  /** Navigates and resolves once the document is parsed: a page showing a stream never finishes loading. */
  goto (url: string): Promise<void>
  /** Runs `fn` in the page; it is sent as source text, so it may use nothing from this file but `arg`. */
  evaluate<A, R> (fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>
  /** Console errors and uncaught page errors since the last `goto`. */
  consoleErrors: string[]
  /** Hides the page for real (another tab brought to the front): its document's visibilityState becomes hidden. */
  hide (): Promise<void>
  /** Brings the page back to the front after hide(). */
  show (): Promise<void>
  /** The whole page, not only the viewport. */
  screenshot (path: `${string}.png`): Promise<void>
}
