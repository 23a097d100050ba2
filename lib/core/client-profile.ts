// What a push route makes of the client, decided once per request from its method, headers and query (`?framing=`,
// `?fps=`): everything the answer changes by (framing, preamble, reader page, multipart/mixed, head alone, the
// viewer's own rate) is told apart here and nowhere else.
import type { IncomingHttpHeaders } from 'node:http'
import { FST_SERVER_PUSH_BAD_FPS, FST_SERVER_PUSH_BAD_FRAMING } from './errors.js'
import { isFramingName, type FramingChoice, type FramingName } from './framing.js'
import { READER_ACCEPT } from './push-view.js'

/** What a route answers one request with, as far as the client decides it. */
export interface ClientProfile {
  /** How its parts are laid out: `advance` to what a browser renders, unless the route or the request chose. */
  readonly framing: FramingName
  /**
   * Whether the stream starts with the preamble WebKit needs (streamOpening): only for a browser that
   * says it renders the stream (Sec-Fetch-Dest), as ffmpeg and VLC, sometimes given a browser's User-Agent, would
   * reject it.
   */
  readonly preamble: boolean
  /** Whether it gets the reader page instead of the stream: a browser opening a route of HTML pages as a page. */
  readonly readerPage: boolean
  /** Whether the stream is answered as multipart/mixed: the reader page's own fetch(). */
  readonly mixed: boolean
  /** HEAD: the response head alone, which takes no viewer's place. */
  readonly headOnly: boolean
  /**
   * The most parts a second it asked for (`?fps=`), before the route's own pace caps it: Infinity when it asked
   * for none, or the route ignores the question.
   */
  readonly fps: number
}

/** The query parameters a push route reads: one value as a string, several as an array (refused), none undefined. */
export interface PushQuery {
  readonly framing: string | readonly string[] | undefined
  readonly fps: string | readonly string[] | undefined
}

/** What the profile reads of a request besides its query (Node's IncomingMessage is one). */
export interface ClientRequest {
  readonly method?: string | undefined
  readonly headers: IncomingHttpHeaders
}

/** What the profile depends on of the route. */
export interface ProfiledRoute {
  readonly framing: FramingChoice
  /** Whether the route pushes HTML pages, which a browser may not show as a page itself. */
  readonly html: boolean
  /** Whether a request's `?fps=` is read (the route's `viewerFps`). */
  readonly viewerFps: boolean
}

/** The least `?fps=` a request may ask for: a part every 100 s. Less is a mistake (or a stream held for nothing). */
export const MIN_VIEWER_FPS = 0.01

/** What `?fps=` may be: plain decimal digits, as a person or a page writes them; no exponent, sign or hex. */
const DECIMAL = /^(?:\d{1,9}(?:\.\d{0,9})?|\.\d{1,9})$/

/** The push query of a request target (`req.url`). */
export function pushQuery (target: string): PushQuery {
  // The query alone: the rest of a request target need not parse as a URL (`//[`).
  const params = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '')
  const value = (name: string): string | readonly string[] | undefined => {
    const values = params.getAll(name)
    return values.length > 1 ? values : values[0]
  }
  return { framing: value('framing'), fps: value('fps') }
}

// What a browser paints itself; `empty` (fetch, XHR) is a script that may well count on Content-Length.
const RENDERED: ReadonlySet<string> = new Set(['image', 'document', 'iframe', 'frame', 'embed', 'object'])

/** A bad query value as an answer may quote it: a short word or number, never markup a page could be made of. */
function shown (asked: string | readonly string[]): string {
  if (typeof asked !== 'string') return `${asked.length} values`
  return /^[\w.+-]{0,20}$/.test(asked) ? JSON.stringify(asked) : 'a value that is neither'
}

/** The framing a request's `?framing=` names, if it has one. Throws FST_SERVER_PUSH_BAD_FRAMING. */
function askedFraming (asked: string | readonly string[] | undefined): FramingName | undefined {
  if (asked === undefined || isFramingName(asked)) return asked
  throw new FST_SERVER_PUSH_BAD_FRAMING(shown(asked))
}

/** The rate a request's `?fps=` asks for; Infinity when none. Throws FST_SERVER_PUSH_BAD_FPS. */
function askedFps (asked: string | readonly string[] | undefined): number {
  if (asked === undefined) return Infinity
  const fps = typeof asked === 'string' && DECIMAL.test(asked) ? Number(asked) : Number.NaN
  if (fps >= MIN_VIEWER_FPS) return fps
  throw new FST_SERVER_PUSH_BAD_FPS(MIN_VIEWER_FPS, shown(asked))
}

/**
 * The profile of one request to `route`, whose query is `query`. Throws FST_SERVER_PUSH_BAD_FRAMING when its
 * `?framing=` names no framing, and FST_SERVER_PUSH_BAD_FPS when the route reads `?fps=` and it is no rate,
 * whatever else the request would get.
 */
export function profileClient ({ method, headers }: ClientRequest, query: PushQuery, route: ProfiledRoute): ClientProfile {
  const asked = askedFraming(query.framing)
  const fps = route.viewerFps ? askedFps(query.fps) : Infinity
  const dest = headers['sec-fetch-dest']
  // Browsers send Sec-Fetch-Dest (Chromium 76+, Firefox 90+, Safari 16.4+); older ones still start their
  // User-Agent with `Mozilla/`, which ffmpeg, VLC, go2rtc and curl do not.
  const rendered = dest !== undefined && RENDERED.has(dest)
  const rendersItself = dest === undefined ? headers['user-agent']?.startsWith('Mozilla/') === true : rendered
  return {
    framing: asked ?? (route.framing !== 'auto' ? route.framing : rendersItself ? 'advance' : 'standard'),
    preamble: rendered,
    // Firefox shows a multipart/x-mixed-replace document itself, Chromium shows it as a broken image, and WebKit
    // shows one only in some contexts. No request header tells them apart: Firefox is known by its User-Agent,
    // and every other browser gets the reader page, which works in all of them.
    readerPage: route.html && rendered && dest !== 'image' && !/\bFirefox\//.test(headers['user-agent'] ?? ''),
    // No request that a browser renders is the reader page's fetch(), whatever it accepts.
    mixed: headers.accept === READER_ACCEPT && !rendered,
    headOnly: method === 'HEAD',
    fps
  }
}
