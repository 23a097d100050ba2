// What kind of client asks: browsers get the framing they paint at once, and a page they can show.
import type { IncomingHttpHeaders } from 'node:http'
import { FST_SERVER_PUSH_BAD_FRAMING } from './errors.js'
import type { FramingChoice } from './options.js'
import type { FramingName } from './wire.js'

// What a browser paints itself; `empty` (fetch, XHR) is a script that may well count on Content-Length.
const RENDERED = new Set(['image', 'document', 'iframe', 'frame', 'embed', 'object'])

/**
 * Whether a browser will render the response. Browsers send Sec-Fetch-Dest (Chromium 76+, Firefox 90+, Safari
 * 16.4+); older ones still start their User-Agent with `Mozilla/`, which ffmpeg, VLC, go2rtc and curl do not.
 */
export function rendersItself (headers: IncomingHttpHeaders): boolean {
  const dest = headers['sec-fetch-dest']
  return dest === undefined ? headers['user-agent']?.startsWith('Mozilla/') === true : RENDERED.has(dest)
}

/**
 * Whether a browser opens the route as a page (or frame, embed, object) it cannot show: Firefox renders a multipart/x-mixed-replace
 * document itself, Chromium shows it as a broken image (and WebKit is not known to do better).
 */
export function wantsReaderPage (headers: IncomingHttpHeaders): boolean {
  const dest = headers['sec-fetch-dest']
  return dest !== undefined && dest !== 'image' && RENDERED.has(dest) && !/\bFirefox\//.test(headers['user-agent'] ?? '')
}

/** The framing of one request: its `?framing=` query value, else the route's choice. Throws FST_SERVER_PUSH_BAD_FRAMING. */
export function chooseFraming (choice: FramingChoice, query: Record<string, unknown>, headers: IncomingHttpHeaders): FramingName {
  const asked = query.framing
  if (asked === 'standard' || asked === 'advance') return asked
  if (asked !== undefined) throw new FST_SERVER_PUSH_BAD_FRAMING(JSON.stringify(asked))
  if (choice !== 'auto') return choice
  return rendersItself(headers) ? 'advance' : 'standard'
}
