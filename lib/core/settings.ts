// The settings of a push route: their types (the documentation users read), their checks, and how a route's
// own settings and its defaults make the values its streams use. Done once, when the route is made.
import { checkNumber, invalidOption, type NumberRule } from './check.js'
import { FRAMING_CHOICES, type FramingChoice } from './framing.js'
import { mergeHeaders, PLAIN_HEADERS, reservedNames, RESPONSE_RESERVED, STREAM_HEADERS, toHeaderList, type HeaderList, type HeaderRecord } from './headers.js'
import { boundaryProblem, isMediaType } from './syntax.js'
import type { CheckedFrame, Frame, PartFormat } from './frame.js'
import { checkOfflineFrame, offlineFrameFor, type OfflineFrame } from './offline.js'
import { checkSigningKeys, type SigningKey } from './signed-url.js'
import { multipart, randomBoundary } from './wire.js'

/** Settings a route may set, and a plugin (or any set of routes) may set for all its routes. */
export interface PushSettings {
  /** At most one part per `intervalMs` milliseconds on each stream; 0 (the default) = as fast as the source and the client go. */
  intervalMs?: number
  /** At most this many parts per second to each viewer; a live viewer skips the frames in between. Default: no limit. */
  maxFps?: number
  /** More viewers than this at once are answered 503 with Retry-After. Default: no limit. */
  maxClients?: number
  /**
   * More push streams than this on one HTTP/2 connection at once (of any route): the next one is answered 503
   * with Retry-After, counted in viewersRefused. Each costs the server a stream's buffers and a place in the
   * connection's watch, whoever opens it; a browser opens one per image on a page, and servers commonly let a
   * connection have 100 streams at once (RFC 9113 asks that the limit be no less). An HTTP/1.1 connection
   * carries one stream. Default 100.
   */
  maxStreamsPerConnection?: number
  /**
   * When nothing was sent to a viewer for this long, its last part is sent again, and again at this period while
   * the source stays quiet: a client that shows a part only once more data arrives (a browser given standard
   * framing, WebKit) keeps showing it, and proxies see traffic. Raised to twice the gap intervalMs and maxFps
   * set, so that a source keeping its pace is never repeated. 0 = off, else at least 100. Default 1000, and 0
   * for routes of HTML pages: each pushed page is a new document, which a repeat would reload.
   */
  idleRepeatMs?: number
  /**
   * How parts are laid out (see `FramingName`). `auto` (the default) gives `advance` to what a browser renders
   * (an image, a page, a frame, an embed: told by `Sec-Fetch-Dest`, or by a `Mozilla/` User-Agent from browsers
   * too old to send it) and `standard` to every other client, `fetch()` included. A request's
   * `?framing=standard` or `?framing=advance` overrides it.
   */
  framing?: FramingChoice
  /** A viewer whose connection is full and makes no progress this long (no part written, no byte taken by the
   * kernel) is cut off, logged as `stalled`; 0 = never. A slow reader is not stalled. Default 30000. */
  stallTimeoutMs?: number
  /** Content-Type of parts whose frame carries none. Default `image/jpeg`. */
  contentType?: string
  /**
   * The multipart boundary: 1 to 70 letters, digits or `'+_-.`, without the leading `--`.
   * Default: random per route, the same for all its clients.
   */
  boundary?: string
  /**
   * Whether image/jpeg frames without Huffman tables (the motion-JPEG of USB webcams) get the standard ones of
   * ITU-T T.81 Annex K, inserted once per frame: Safari paints nothing without them. A JPEG with its own tables is
   * sent as it is. Default true.
   */
  jpegHuffmanTables?: boolean
  /** Extra response headers (a route's override the defaults' by name). Content-Type, Content-Length,
   * Transfer-Encoding and Connection are the plugin's. Headers set before the route answers (hooks, middleware)
   * override these. */
  headers?: HeaderRecord
  /**
   * Whether a request's `?fps=N` may lower its own rate: at most N parts a second to that viewer (a live viewer
   * skips to the newest frame at its pace), never more than `maxFps` and `intervalMs` allow. When false, `?fps=` is
   * ignored, whatever its value. Default true.
   */
  viewerFps?: boolean
  /**
   * A stream is ended well-formed (its last part again, the close delimiter) once it has been open this long,
   * logged as `max-duration`: a proxy or a token that expires sees streams end in time, and a view that
   * reconnects opens the next one. Checked by the route's periodic watch, which then looks every tenth of it or
   * more often (every 25 ms at most, every second at least): a stream ends at most that much late. 0 (the
   * default) = no limit, else at least 100.
   */
  maxStreamMs?: number
  /**
   * What viewers of a live source get while it is offline (its producer not delivering: a relay retrying, a
   * command restarting, Redis away, no frame for the source's `offlineAfterMs`): your own frame (an image, a page,
   * anything the route can carry), or false for nothing (viewers keep the last frame). Every offline part carries
   * `X-Offline: <epoch seconds when the source went offline>`. Default: a built-in 320x240 JPEG saying "Camera
   * offline" for image routes, a small page saying since when the stream is offline for text/html routes, none
   * for other types.
   */
  offlineFrame?: Frame | false
  /**
   * Requires a signed URL (`signUrl()`) to start a stream or snapshot: a request whose URL is not signed by one of
   * these keys, was changed since, or has expired is answered 403 (FST_SERVER_PUSH_BAD_SIGNATURE). A key is a
   * string or bytes of at least 32 bytes; several are accepted at once, so that a new key can sign while URLs
   * signed with the old one still open. `false`: none required (a plugin's default turned off for one route).
   * Default: none required.
   */
  signingKeys?: SigningKey | readonly SigningKey[] | false
  /**
   * Whether an HTTP/1.1 stream's body is sent with chunked transfer coding (`Transfer-Encoding: chunked`, each
   * write one chunk: a part, the opening, the close), rather than delimited by the connection's close. The parts
   * are byte for byte the same. For clients that read a close-delimited body to its end before handing any of it
   * on: Python's `requests` (urllib3) with `iter_content(chunk_size=None)` yields nothing of one, and with a fixed
   * chunk size each part late; with chunks each part arrives as it is sent. HTTP/1.0 requests (which know no
   * chunks) and HTTP/2 (which has its frames) ignore it. Default false: cameras' clients and browsers read the
   * close-delimited body as it comes.
   */
  chunked?: boolean
}

export const SETTING_KEYS: readonly string[] = ['intervalMs', 'maxFps', 'maxClients', 'maxStreamsPerConnection', 'idleRepeatMs', 'stallTimeoutMs', 'framing', 'contentType', 'boundary', 'jpegHuffmanTables', 'headers', 'viewerFps', 'maxStreamMs', 'offlineFrame', 'signingKeys', 'chunked']

type NumberSetting = 'intervalMs' | 'maxFps' | 'maxClients' | 'maxStreamsPerConnection' | 'idleRepeatMs' | 'stallTimeoutMs' | 'maxStreamMs'

// The choices as the check's message lists them: each quoted, the last after "or".
const QUOTED_CHOICES = FRAMING_CHOICES.map((choice) => JSON.stringify(choice))
const LISTED_CHOICES = `${QUOTED_CHOICES.slice(0, -1).join(', ')} or ${QUOTED_CHOICES.at(-1)}`

const NUMBER_RULES: Record<NumberSetting, NumberRule> = {
  intervalMs: { test: (n) => n >= 0, text: 'a finite number >= 0' },
  maxFps: { test: (n) => n > 0, text: 'a finite number > 0' },
  maxClients: { test: (n) => Number.isInteger(n) && n >= 1, text: 'a whole number >= 1' },
  maxStreamsPerConnection: { test: (n) => Number.isInteger(n) && n >= 1, text: 'a whole number >= 1' },
  idleRepeatMs: { test: (n) => n === 0 || n >= 100, text: '0 (off) or a finite number >= 100' },
  stallTimeoutMs: { test: (n) => n >= 0, text: 'a finite number >= 0 (0 = never)' },
  maxStreamMs: { test: (n) => n === 0 || n >= 100, text: '0 (no limit) or a finite number >= 100' }
}

/** PushSettings once checked: headers as the lines to write, the offline frame as a checked frame. */
export type CheckedSettings = { readonly [K in keyof Omit<PushSettings, 'headers' | 'offlineFrame' | 'signingKeys'>]?: PushSettings[K] | undefined } & {
  readonly headers?: HeaderList
  readonly offlineFrame?: CheckedFrame | false | undefined
  readonly signingKeys?: readonly Buffer[] | false | undefined
}

/** Checks the settings among `value`'s keys; throws FST_SERVER_PUSH_INVALID_OPTION naming `where` and the field. */
export function checkSettings (where: string, value: Record<string, unknown>): CheckedSettings {
  const number = (name: NumberSetting): number | undefined => checkNumber(where, name, value[name], NUMBER_RULES[name])
  const { framing, contentType, boundary, jpegHuffmanTables, headers, viewerFps, offlineFrame, chunked } = value
  if (framing !== undefined && !FRAMING_CHOICES.includes(framing as FramingChoice)) {
    throw invalidOption(where, `framing must be ${LISTED_CHOICES}, got ${JSON.stringify(framing)}`)
  }
  if (contentType !== undefined && (typeof contentType !== 'string' || !isMediaType(contentType))) {
    throw invalidOption(where, `contentType must be a media type like image/jpeg or text/html, got ${JSON.stringify(contentType)}`)
  }
  if (boundary !== undefined) {
    const problem = typeof boundary === 'string' ? boundaryProblem(boundary) : 'must be a string'
    if (problem !== undefined) throw invalidOption(where, `boundary ${problem}, got ${JSON.stringify(boundary)}`)
  }
  if (jpegHuffmanTables !== undefined && typeof jpegHuffmanTables !== 'boolean') {
    throw invalidOption(where, `jpegHuffmanTables must be true or false, got ${JSON.stringify(jpegHuffmanTables)}`)
  }
  if (viewerFps !== undefined && typeof viewerFps !== 'boolean') {
    throw invalidOption(where, `viewerFps must be true or false, got ${JSON.stringify(viewerFps)}`)
  }
  if (chunked !== undefined && typeof chunked !== 'boolean') {
    throw invalidOption(where, `chunked must be true or false, got ${JSON.stringify(chunked)}`)
  }
  let headerList: HeaderList | undefined
  if (headers !== undefined) {
    headerList = toHeaderList(headers, (problem) => invalidOption(where, problem))
    const reserved = reservedNames(headerList, RESPONSE_RESERVED)
    if (reserved.length > 0) throw invalidOption(where, `header ${reserved[0]} is set by the plugin and cannot be changed`)
  }
  return {
    intervalMs: number('intervalMs'),
    maxFps: number('maxFps'),
    maxClients: number('maxClients'),
    maxStreamsPerConnection: number('maxStreamsPerConnection'),
    idleRepeatMs: number('idleRepeatMs'),
    stallTimeoutMs: number('stallTimeoutMs'),
    framing: framing as FramingChoice | undefined,
    contentType,
    boundary: boundary as string | undefined,
    jpegHuffmanTables,
    headers: headerList,
    viewerFps,
    maxStreamMs: number('maxStreamMs'),
    offlineFrame: checkOfflineFrame(where, offlineFrame),
    signingKeys: checkSigningKeys(where, value.signingKeys),
    chunked
  }
}

/** A route's settings with every default applied, but for the idle repeat, which waits to know what the source is. */
export interface RouteSettings extends PartFormat {
  readonly framing: FramingChoice
  /** Least time between two parts to one viewer: from intervalMs and maxFps. */
  readonly minGapMs: number
  readonly maxClients: number
  readonly maxStreamsPerConnection: number
  readonly stallTimeoutMs: number
  /** As set; undefined = by the kind of parts (see `idleRepeatFor`). */
  readonly idleRepeatMs: number | undefined
  /** The stream's response headers after Content-Type: the plugin's, then the defaults' and the route's own. */
  readonly headers: HeaderList
  /** The headers of the route's plain responses (snapshot, reader page): no-cache, then the user's. */
  readonly plainHeaders: HeaderList
  /** Whether a request's `?fps=` lowers its viewer's rate. */
  readonly viewerFps: boolean
  /** 0 = no limit. */
  readonly maxStreamMs: number
  /** What a live source's viewers get while it is offline; undefined: nothing. */
  readonly offlineFrame: OfflineFrame | undefined
  /** The keys a request's URL must be signed with; undefined: any URL is served. */
  readonly signingKeys: readonly Buffer[] | undefined
  /** Whether HTTP/1.1 streams are sent in chunks. */
  readonly chunked: boolean
}

/** A route's own checked settings over `defaults`. */
export function resolveSettings (own: CheckedSettings, defaults: CheckedSettings): RouteSettings {
  const maxFps = own.maxFps ?? defaults.maxFps
  const userHeaders = mergeHeaders(defaults.headers ?? [], own.headers ?? [])
  const contentType = own.contentType ?? defaults.contentType ?? 'image/jpeg'
  const signingKeys = own.signingKeys ?? defaults.signingKeys
  return {
    contentType,
    multipart: multipart(own.boundary ?? defaults.boundary ?? randomBoundary()),
    jpegHuffmanTables: own.jpegHuffmanTables ?? defaults.jpegHuffmanTables ?? true,
    framing: own.framing ?? defaults.framing ?? 'auto',
    minGapMs: Math.max(own.intervalMs ?? defaults.intervalMs ?? 0, maxFps === undefined ? 0 : 1000 / maxFps),
    maxClients: own.maxClients ?? defaults.maxClients ?? Infinity,
    maxStreamsPerConnection: own.maxStreamsPerConnection ?? defaults.maxStreamsPerConnection ?? 100,
    stallTimeoutMs: own.stallTimeoutMs ?? defaults.stallTimeoutMs ?? 30_000,
    idleRepeatMs: own.idleRepeatMs ?? defaults.idleRepeatMs,
    headers: mergeHeaders(STREAM_HEADERS, userHeaders),
    plainHeaders: mergeHeaders(PLAIN_HEADERS, userHeaders),
    viewerFps: own.viewerFps ?? defaults.viewerFps ?? true,
    maxStreamMs: own.maxStreamMs ?? defaults.maxStreamMs ?? 0,
    offlineFrame: offlineFrameFor(own.offlineFrame ?? defaults.offlineFrame, contentType),
    signingKeys: signingKeys === false ? undefined : signingKeys,
    chunked: own.chunked ?? defaults.chunked ?? false
  }
}

/** The idle repeat of a route whose parts are (or are not) HTML pages: 0 = off, else at least twice minGapMs. */
export function idleRepeatFor (settings: RouteSettings, html: boolean): number {
  return repeatAfter(settings.idleRepeatMs ?? (html ? 0 : 1000), settings.minGapMs)
}

/**
 * An idle repeat of `idleRepeatMs` for parts at least `gapMs` apart: 0 = off, else at least two gaps, so that
 * a source keeping its pace (or a viewer its own lower one) is never repeated.
 */
export function repeatAfter (idleRepeatMs: number, gapMs: number): number {
  return idleRepeatMs === 0 ? 0 : Math.max(idleRepeatMs, 2 * gapMs)
}
