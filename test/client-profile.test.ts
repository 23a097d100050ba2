// What a push route makes of each kind of client, as a table: the request (method, headers, ?framing=, ?fps=) and the
// route (its framing choice, whether it pushes HTML pages) on the left, the profile it gets on the right. Every
// row is also sent to a real server, and what its answer shows of the profile is read back from the wire.
import t from 'tap'
import { profileClient, type ClientProfile as Profile } from '../lib/core/client-profile.js'
import { FRAMING_CHOICES, type FramingChoice } from '../lib/core/framing.js'
import { aborted, startApp } from './helpers/app.js'
import { BROWSER_PREAMBLE, RawClient } from './helpers/wire-client.js'

/** A request refused for its `?framing=`: the 400's message. */
interface Refused {
  readonly refused: string
}

interface Row {
  readonly name: string
  readonly method?: 'GET' | 'HEAD'
  /** By lower-case name, as Node hands them over. */
  readonly headers?: Readonly<Record<string, string>>
  /** The `?framing=` value as the server reads it from the query: a string, several strings, or none. */
  readonly framing?: string | readonly string[]
  /** The `?fps=` value (test/viewer-rate.test.ts has the refused ones). */
  readonly fps?: string
  readonly route?: { readonly framing?: FramingChoice, readonly html?: boolean }
  readonly profile: Profile | Refused
}

const CHROMIUM = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0'
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15'
const WEBKITGTK = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15'
/** Safari before 16.4 sends no Sec-Fetch-Dest. */
const OLD_SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Safari/605.1.15'
/** Firefox for iOS is WebKit inside: no `Firefox/` in its User-Agent. */
const FIREFOX_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/128.0 Mobile/15E148 Safari/605.1.15'
const IMAGE_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'
const PAGE_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'

const chromium = (dest: string, accept = '*/*') => ({ 'user-agent': CHROMIUM, 'sec-fetch-dest': dest, accept })
const firefox = (dest: string, accept = '*/*') => ({ 'user-agent': FIREFOX, 'sec-fetch-dest': dest, accept })
const safari = (dest: string, accept = '*/*') => ({ 'user-agent': SAFARI, 'sec-fetch-dest': dest, accept })
const tool = (userAgent: string) => ({ 'user-agent': userAgent, accept: '*/*' })

const stream = { readerPage: false, mixed: false, headOnly: false, fps: Infinity }
/** A stream as cameras send it: what ffmpeg, VLC, curl and scripts get. */
const STANDARD: Profile = { framing: 'standard', preamble: false, ...stream }
/** What a browser rendering the stream gets: advance framing after WebKit's preamble. */
const BROWSER: Profile = { framing: 'advance', preamble: true, ...stream }
/** A browser too old to say what it does with the stream (a `Mozilla/` User-Agent alone): no preamble. */
const OLD_BROWSER: Profile = { framing: 'advance', preamble: false, ...stream }
/** The reader page's own fetch(): the stream as multipart/mixed. */
const READER_FETCH: Profile = { ...STANDARD, mixed: true }
/** A browser opening a route of HTML pages as a page. */
const READER_PAGE: Profile = { ...BROWSER, readerPage: true }
const refused = (shown: string): Refused => ({ refused: `framing must be standard or advance, got ${shown}` })
const HTML = { html: true }

const ROWS: readonly Row[] = [
  // Image routes (framing auto), by client.
  { name: 'Chromium <img>', headers: chromium('image', IMAGE_ACCEPT), profile: BROWSER },
  { name: 'Chromium opening the stream as a page', headers: chromium('document', PAGE_ACCEPT), profile: BROWSER },
  { name: 'Chromium <iframe>', headers: chromium('iframe', PAGE_ACCEPT), profile: BROWSER },
  { name: 'Chromium <embed>', headers: chromium('embed'), profile: BROWSER },
  { name: 'Chromium <object>', headers: chromium('object'), profile: BROWSER },
  { name: 'a <frame>', headers: chromium('frame', PAGE_ACCEPT), profile: BROWSER },
  { name: 'Chromium fetch(): a script may count on Content-Length', headers: chromium('empty'), profile: STANDARD },
  { name: 'Chromium <video>: not what a browser paints as a stream', headers: chromium('video'), profile: STANDARD },
  { name: 'the reader page\'s fetch() in Chromium', headers: chromium('empty', 'multipart/mixed'), profile: READER_FETCH },
  { name: 'Firefox <img>', headers: firefox('image', IMAGE_ACCEPT), profile: BROWSER },
  { name: 'Firefox opening the stream as a page', headers: firefox('document', PAGE_ACCEPT), profile: BROWSER },
  { name: 'Firefox fetch()', headers: firefox('empty'), profile: STANDARD },
  { name: 'the reader page\'s fetch() in Firefox', headers: firefox('empty', 'multipart/mixed'), profile: READER_FETCH },
  { name: 'Safari <img>', headers: safari('image', IMAGE_ACCEPT), profile: BROWSER },
  { name: 'WebKitGTK opening the stream as a page', headers: { 'user-agent': WEBKITGTK, 'sec-fetch-dest': 'document', accept: PAGE_ACCEPT }, profile: BROWSER },
  { name: 'the reader page\'s fetch() in Safari', headers: safari('empty', 'multipart/mixed'), profile: READER_FETCH },
  { name: 'Safari before 16.4 (no Sec-Fetch-Dest)', headers: { 'user-agent': OLD_SAFARI, accept: IMAGE_ACCEPT }, profile: OLD_BROWSER },
  { name: 'Sec-Fetch-Dest: image alone', headers: { 'sec-fetch-dest': 'image' }, profile: BROWSER },
  { name: 'Sec-Fetch-Dest in another case: not a browser\'s', headers: { 'user-agent': CHROMIUM, 'sec-fetch-dest': 'Image' }, profile: STANDARD },
  { name: 'no header at all', profile: STANDARD },
  { name: 'curl', headers: tool('curl/8.5.0'), profile: STANDARD },
  { name: 'VLC', headers: tool('VLC/3.0.21 LibVLC/3.0.21'), profile: STANDARD },
  { name: 'ffmpeg', headers: tool('Lavf/61.7.100'), profile: STANDARD },
  { name: 'mpv', headers: tool('libmpv'), profile: STANDARD },
  { name: 'Python requests', headers: { 'user-agent': 'python-requests/2.32.3', accept: '*/*', 'accept-encoding': 'gzip, deflate' }, profile: STANDARD },
  { name: 'a User-Agent starting mozilla/ in lower case', headers: tool('mozilla/5.0'), profile: STANDARD },
  // ffmpeg or VLC given a browser's headers by a user copying them.
  { name: 'a player given a browser\'s User-Agent: advance, but the delimiter at byte 0', headers: tool(CHROMIUM), profile: OLD_BROWSER },
  { name: 'a player given a browser\'s User-Agent and Sec-Fetch-Dest: image', headers: chromium('image'), profile: BROWSER },
  // Accept: multipart/mixed is the reader page's fetch() only when nothing says the response is rendered.
  { name: 'Accept: multipart/mixed from an <img>: the stream type', headers: chromium('image', 'multipart/mixed'), profile: BROWSER },
  { name: 'Accept: multipart/mixed from curl', headers: { 'user-agent': 'curl/8.5.0', accept: 'multipart/mixed' }, profile: READER_FETCH },
  { name: 'Accept: multipart/mixed, Mozilla/ User-Agent, no Sec-Fetch-Dest', headers: { 'user-agent': CHROMIUM, accept: 'multipart/mixed' }, profile: { ...OLD_BROWSER, mixed: true } },
  { name: 'Accept: multipart/mixed among others: the stream type', headers: chromium('empty', 'multipart/mixed, */*'), profile: STANDARD },
  // HEAD: the head alone, which takes no viewer's place.
  { name: 'HEAD from Chromium <img>', method: 'HEAD', headers: chromium('image', IMAGE_ACCEPT), profile: { ...BROWSER, headOnly: true } },
  { name: 'HEAD from curl', method: 'HEAD', headers: tool('curl/8.5.0'), profile: { ...STANDARD, headOnly: true } },
  { name: 'HEAD from the reader page\'s fetch()', method: 'HEAD', headers: chromium('empty', 'multipart/mixed'), profile: { ...READER_FETCH, headOnly: true } },
  // The route's framing choice, then the request's ?framing=.
  { name: 'route standard: Chromium <img>', route: { framing: 'standard' }, headers: chromium('image', IMAGE_ACCEPT), profile: { ...BROWSER, framing: 'standard' } },
  { name: 'route standard: curl', route: { framing: 'standard' }, headers: tool('curl/8.5.0'), profile: STANDARD },
  { name: 'route advance: curl', route: { framing: 'advance' }, headers: tool('curl/8.5.0'), profile: { ...STANDARD, framing: 'advance' } },
  { name: 'route advance: the reader page\'s fetch()', route: { framing: 'advance' }, headers: chromium('empty', 'multipart/mixed'), profile: { ...READER_FETCH, framing: 'advance' } },
  { name: '?framing=standard from Chromium <img>', framing: 'standard', headers: chromium('image'), profile: { ...BROWSER, framing: 'standard' } },
  { name: '?framing=advance from curl', framing: 'advance', headers: tool('curl/8.5.0'), profile: { ...STANDARD, framing: 'advance' } },
  { name: '?framing=advance on a route standard', framing: 'advance', route: { framing: 'standard' }, profile: { ...STANDARD, framing: 'advance' } },
  { name: '?framing=standard on a route advance', framing: 'standard', route: { framing: 'advance' }, headers: chromium('image'), profile: { ...BROWSER, framing: 'standard' } },
  { name: '?framing=fast', framing: 'fast', profile: refused('"fast"') },
  { name: '?framing= (empty)', framing: '', profile: refused('""') },
  { name: '?framing=auto: the route\'s choice is not the request\'s', framing: 'auto', profile: refused('"auto"') },
  { name: '?framing= twice', framing: ['standard', 'advance'], profile: refused('2 values') },
  { name: '?framing= as markup is not quoted back', framing: '<script>alert(1)</script>', profile: refused('a value that is neither') },
  { name: '?framing= a word too long to quote back', framing: 'a'.repeat(21), profile: refused('a value that is neither') },
  { name: '?framing= a word short enough to quote back', framing: 'a'.repeat(20), profile: refused(`"${'a'.repeat(20)}"`) },
  // ?fps=: the viewer's own rate, whatever else it gets.
  { name: '?fps=2 from Chromium <img>', fps: '2', headers: chromium('image', IMAGE_ACCEPT), profile: { ...BROWSER, fps: 2 } },
  { name: '?fps=0.5 from curl, with ?framing=advance', fps: '0.5', framing: 'advance', headers: tool('curl/8.5.0'), profile: { ...STANDARD, framing: 'advance', fps: 0.5 } },
  { name: 'a bad ?framing= is refused whatever ?fps= says', fps: '2', framing: 'fast', profile: refused('"fast"') },
  // Routes of HTML pages: the reader page to a browser that may not show the stream as a page.
  { name: 'pages: Chromium opening them as a page', route: HTML, headers: chromium('document', PAGE_ACCEPT), profile: READER_PAGE },
  { name: 'pages: Chromium <iframe>', route: HTML, headers: chromium('iframe', PAGE_ACCEPT), profile: READER_PAGE },
  { name: 'pages: Chromium <embed>', route: HTML, headers: chromium('embed'), profile: READER_PAGE },
  { name: 'pages: Chromium <object>', route: HTML, headers: chromium('object'), profile: READER_PAGE },
  { name: 'pages: Chromium <img>', route: HTML, headers: chromium('image', IMAGE_ACCEPT), profile: BROWSER },
  { name: 'pages: Firefox shows them itself', route: HTML, headers: firefox('document', PAGE_ACCEPT), profile: BROWSER },
  { name: 'pages: Firefox for iOS is WebKit', route: HTML, headers: { 'user-agent': FIREFOX_IOS, 'sec-fetch-dest': 'document' }, profile: READER_PAGE },
  { name: 'pages: Safari', route: HTML, headers: safari('document', PAGE_ACCEPT), profile: READER_PAGE },
  { name: 'pages: WebKitGTK', route: HTML, headers: { 'user-agent': WEBKITGTK, 'sec-fetch-dest': 'document' }, profile: READER_PAGE },
  { name: 'pages: a page request with no User-Agent', route: HTML, headers: { 'sec-fetch-dest': 'document' }, profile: READER_PAGE },
  { name: 'pages: Safari before 16.4', route: HTML, headers: { 'user-agent': OLD_SAFARI, accept: PAGE_ACCEPT }, profile: OLD_BROWSER },
  { name: 'pages: the reader page\'s fetch()', route: HTML, headers: chromium('empty', 'multipart/mixed'), profile: READER_FETCH },
  { name: 'pages: curl', route: HTML, headers: tool('curl/8.5.0'), profile: STANDARD },
  { name: 'pages: HEAD from Chromium as a page', route: HTML, method: 'HEAD', headers: chromium('document'), profile: { ...READER_PAGE, headOnly: true } },
  { name: 'pages: ?framing=standard from Chromium as a page', route: HTML, framing: 'standard', headers: chromium('document'), profile: { ...READER_PAGE, framing: 'standard' } },
  { name: 'pages: route standard, Chromium as a page', route: { ...HTML, framing: 'standard' }, headers: chromium('document'), profile: { ...READER_PAGE, framing: 'standard' } },
  { name: 'pages: a bad ?framing= is refused before the reader page', route: HTML, framing: 'fast', headers: chromium('document'), profile: refused('"fast"') }
]

const pathOf = (framing: FramingChoice, html: boolean, full: boolean): string => `/${full ? 'full-' : ''}${framing}-${html ? 'html' : 'text'}`
const routeOf = ({ route = {} }: Row): [FramingChoice, boolean] => [route.framing ?? 'auto', route.html ?? false]

function queryOf ({ framing, fps }: Row): string {
  const pairs = [...[framing ?? []].flat().map((value) => `framing=${encodeURIComponent(value)}`), ...fps === undefined ? [] : [`fps=${fps}`]]
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`
}

/** One answer as it came: its status, type and body (the first part, for a stream). */
interface Answer {
  status: number
  type: string
  body: string
}

async function ask (port: number, path: string, { method = 'GET', headers = {} }: Row): Promise<Answer> {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  // A HEAD answer is read to the end: its connection closes once the head is out.
  const client = await RawClient.get(port, path, { method, headers: method === 'HEAD' ? [...lines, 'Connection: close'] : lines })
  const answer = (): Answer | undefined => {
    const text = client.data.toString('latin1')
    const end = text.indexOf('\r\n\r\n')
    if (end === -1) return undefined
    const head = text.slice(0, end)
    const length = /^content-length: (\d+)$/im.exec(head)?.[1]
    const body = text.slice(end + 4)
    if (method === 'HEAD' ? !client.ended : length === undefined ? !body.includes('x\r\n--B\r\n') : body.length < Number(length)) return undefined
    return { status: Number(head.slice(9, 12)), type: /^content-type: (.*)$/im.exec(head)?.[1] ?? '', body }
  }
  await client.until(() => answer() !== undefined)
  client.destroy()
  return answer() as Answer
}

/** What the wire shows of a row's profile: what its answer on its route shows, and whether a full route refuses it. */
async function seen (port: number, row: Row): Promise<Partial<Profile> & Partial<Refused>> {
  const [framing, html] = routeOf(row)
  const open = await ask(port, pathOf(framing, html, false) + queryOf(row), row)
  if (open.status === 400) return { refused: (JSON.parse(open.body) as { message: string }).message }
  if (open.type === 'text/html; charset=utf-8') return { readerPage: true, mixed: false }
  const mixed = open.type === 'multipart/mixed;boundary=B'
  if (!mixed && open.type !== 'multipart/x-mixed-replace;boundary=B') throw new Error(`${row.name}: answered ${open.status} ${open.type}`)
  const full = await ask(port, pathOf(framing, html, true) + queryOf(row), row)
  const headOnly = open.body === ''
  if (headOnly !== (full.status !== 503)) throw new Error(`${row.name}: ${headOnly ? 'a head alone refused' : 'a stream not refused'} on a full route`)
  if (headOnly) return { readerPage: false, mixed, headOnly }
  const preamble = open.body.startsWith(BROWSER_PREAMBLE)
  const first = /^--B\r\nContent-Type: text\/\w+\r\n(Content-Length: 1\r\n)?\r\nx\r\n--B\r\n/.exec(preamble ? open.body.slice(BROWSER_PREAMBLE.length) : open.body)
  if (first === null) throw new Error(`${row.name}: a stream starting ${JSON.stringify(open.body.slice(0, 600))}`)
  return { readerPage: false, mixed, headOnly, preamble, framing: first[1] === undefined ? 'advance' : 'standard' }
}

t.test('each row of the table gets its profile', async (t) => {
  for (const row of ROWS) {
    const [framing, html] = routeOf(row)
    const profile = () => profileClient({ method: row.method ?? 'GET', headers: row.headers ?? {} }, { framing: row.framing, fps: row.fps }, { framing, html, viewerFps: true })
    if ('refused' in row.profile) t.throws(profile, { code: 'FST_SERVER_PUSH_BAD_FRAMING', statusCode: 400, message: row.profile.refused }, row.name)
    else t.same(profile(), row.profile, row.name)
  }
})

t.test('each row of the table, sent to a real server, gets its profile there', async (t) => {
  const routes = FRAMING_CHOICES.flatMap((framing) => [false, true].flatMap((html) => [false, true].map((full) => ({
    path: pathOf(framing, html, full),
    framing,
    boundary: 'B',
    contentType: html ? 'text/html' : 'text/plain',
    idleRepeatMs: 0,
    // A full route: one viewer, held open below; a request that would take a viewer's place is refused.
    maxClients: full ? 1 : undefined,
    source: async function * ({ signal }: { signal: AbortSignal }) {
      yield 'x'
      await aborted(signal)
    }
  }))))
  const { port } = await startApp(t, { routes })
  for (const { path, maxClients } of routes) {
    if (maxClients === undefined) continue
    const holder = await RawClient.get(port, path)
    await holder.opened()
    t.teardown(() => holder.destroy())
  }
  for (const row of ROWS) {
    const observed = await seen(port, row)
    const expected = Object.fromEntries(Object.entries(row.profile).filter(([key]) => key in observed))
    t.same(observed, expected, row.name)
  }
})
