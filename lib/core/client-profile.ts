// What a push route makes of the client, decided once per request from its method, headers and `?framing=`:
// everything the answer changes by (framing, preamble, reader page, multipart/mixed, head alone) is told apart
// here and nowhere else.
import type { IncomingHttpHeaders } from 'node:http'
import { FST_SERVER_PUSH_BAD_FRAMING } from './errors.js'
import { isFramingName, type FramingChoice, type FramingName } from './framing.js'
import { READER_ACCEPT } from './reader-page.js'

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
}

// What a browser paints itself; `empty` (fetch, XHR) is a script that may well count on Content-Length.
const RENDERED: ReadonlySet<string> = new Set(['image', 'document', 'iframe', 'frame', 'embed', 'object'])

/** A bad `?framing=` value as an answer may quote it: a short word, never markup a page could be made of. */
function shown (asked: unknown): string {
  if (Array.isArray(asked)) return `${asked.length} values`
  return typeof asked === 'string' && /^\w{0,20}$/.test(asked) ? JSON.stringify(asked) : 'a value that is neither'
}

/** The framing a request's `?framing=` names, if it has one. Throws FST_SERVER_PUSH_BAD_FRAMING. */
function askedFraming (asked: unknown): FramingName | undefined {
  if (asked === undefined || isFramingName(asked)) return asked
  throw new FST_SERVER_PUSH_BAD_FRAMING(shown(asked))
}

/**
 * The profile of one request to `route`, whose query's `framing` is `framing`. Throws
 * FST_SERVER_PUSH_BAD_FRAMING when that names no framing, whatever else the request would get.
 */
export function profileClient ({ method, headers }: ClientRequest, framing: unknown, route: ProfiledRoute): ClientProfile {
  const asked = askedFraming(framing)
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
    headOnly: method === 'HEAD'
  }
}
