// What a route shows while its live source is offline: the user's own frame, nothing, or a built-in one chosen
// by the route's type; and the X-Offline header that tells an offline part from a frame.
import { invalidOption } from './check.js'
import { checkFrame, type CheckedFrame } from './frame.js'
import { OFFLINE_HEADER, type HeaderList } from './headers.js'
import { OFFLINE_JPEG } from './offline-jpeg.js'
import { essence, isHtml } from './syntax.js'

/** A route's offline part before encoding, made for the moment (Date.now()) its source went offline. */
export type OfflineFrame = (since: number) => CheckedFrame

/** `X-Offline: <epoch seconds when the source went offline>`. */
export function offlineHeaders (since: number): HeaderList {
  return [[OFFLINE_HEADER, String(Math.floor(since / 1000))]]
}

/** A moment as a page or a message shows it: ISO 8601 in UTC, to the second. */
export function printableTime (since: number): string {
  return new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * The `offlineFrame` setting checked: undefined (the built-in one), false (none) or a frame (which, as every frame,
 * may not carry X-Offline itself). Throws FST_SERVER_PUSH_INVALID_OPTION naming `where`.
 */
export function checkOfflineFrame (where: string, value: unknown): CheckedFrame | false | undefined {
  if (value === undefined || value === false) return value
  return checkFrame(value, (problem) => invalidOption(where, `offlineFrame must be a frame or false: ${problem}`))
}

const BUILT_IN_JPEG: CheckedFrame = { body: OFFLINE_JPEG, contentType: 'image/jpeg', headers: [] }

/** The built-in page of HTML routes: no script, no CR LF (so no boundary delimiter), ASCII only. */
function offlinePage (since: number): CheckedFrame {
  const time = printableTime(since)
  const body = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stream offline</title>' +
    '<style>html{height:100%;background:#303030;color:#e0e0e0;font:1.25em system-ui,sans-serif}' +
    'body{height:100%;margin:0;display:grid;place-items:center;text-align:center}small{color:#a0a0a0}</style></head>' +
    `<body><p>The stream is offline<br><small>since <time datetime="${time}">${time}</time></small></p></body></html>`
  return { body: Buffer.from(body), contentType: undefined, headers: [] }
}

/**
 * What a route of type `contentType` shows while offline, from its `offlineFrame` setting: the user's frame; none
 * for false; else the built-in JPEG for image routes (a browser paints each part by its own type, so a PNG route
 * shows it too), the built-in page for HTML routes, and none for other types.
 */
export function offlineFrameFor (setting: CheckedFrame | false | undefined, contentType: string): OfflineFrame | undefined {
  if (setting === false) return undefined
  if (setting !== undefined) return () => setting
  if (essence(contentType).startsWith('image/')) return () => BUILT_IN_JPEG
  return isHtml(contentType) ? offlinePage : undefined
}
