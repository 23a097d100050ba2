// The reader page's script, run in node:vm against a stand-in fetch and document: each part is shown as its
// delimiter arrives, in any chunking and either framing; repeats are not shown again; the close ends it; a
// full route and a lost connection are tried again.
import vm from 'node:vm'
import t from 'tap'
import { READER_PAGE } from '../lib/core/reader-page.js'
import { encodePart, multipart, type EncodedPart } from '../lib/core/wire.js'
import { laidOut } from './helpers/layout.js'

const SCRIPT = /<script>([^]*)<\/script>/.exec(READER_PAGE)?.[1] as string

interface Reply { status: number, headers?: Record<string, string>, chunks?: Uint8Array[] }

/** Runs the page against `replies` (one per fetch); resolves with what it showed once the script returns. */
async function runPage (replies: Reply[]): Promise<{ shown: string[], fetches: number, text: string }> {
  const shown: string[] = []
  let fetches = 0
  const signals: AbortSignal[] = []
  const accepts: string[] = []
  const body = { textContent: '', replaceChildren: (child: { textContent: string }) => shown.push(`text: ${child.textContent}`) }
  const context = vm.createContext({
    location: { href: 'http://127.0.0.1/board' },
    TextDecoder,
    Uint8Array,
    setTimeout: (fn: () => void) => setImmediate(fn),
    DOMParser: class { parseFromString (html: string) { return { documentElement: { html } } } },
    document: {
      body,
      documentElement: {},
      adoptNode: (node: unknown) => node,
      createElement: () => ({ textContent: '' }),
      replaceChild (node: { html: string }) { shown.push(node.html) }
    },
    AbortController,
    fetch: async (_url: string, init: { headers: Record<string, string>, signal: AbortSignal }) => {
      accepts.push(init.headers.accept)
      signals.push(init.signal)
      const reply = replies[fetches++]
      if (reply === undefined) throw new Error('offline')
      const chunks = [...(reply.chunks ?? [])]
      const headers = new Map(Object.entries(reply.headers ?? {}))
      return {
        ok: reply.status === 200,
        status: reply.status,
        statusText: '',
        headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
        body: { getReader: () => ({ read: async () => chunks.length > 0 ? { value: chunks.shift(), done: false } : { value: undefined, done: true }, cancel: () => {} }) }
      }
    }
  })
  await (vm.runInContext(SCRIPT, context) as Promise<void>)
  // Every attempt's request is let go once the page is done with it, so none is left open on the server.
  if (!signals.every((signal) => signal.aborted)) throw new Error('an attempt was not aborted')
  // The same bytes as multipart/mixed, which WebKit's fetch() can read.
  if (!accepts.every((accept) => accept === 'multipart/mixed')) throw new Error(`asked for ${accepts.join(', ')}`)
  return { shown, fetches, text: body.textContent }
}

const m = multipart('B')
const HTML = 'text/html; charset=utf-8'
const parts = ['<p>one ✓</p>', '<p>two</p>', '<p>two</p>', '<p>three</p>'].map((html) =>
  encodePart(HTML, Buffer.from(html), [], m.announce(HTML)))

function standard (sent: EncodedPart[]): Buffer {
  return laidOut('standard', m, sent)
}

function advance (sent: EncodedPart[]): Buffer {
  return laidOut('advance', m, sent, undefined, HTML)
}

const STREAM_HEADERS = { 'content-type': m.contentType }

t.test('every part shown once, in order, in both framings and any chunking; a repeat is not shown again', async (t) => {
  for (const [name, data] of [['standard', standard(parts)], ['advance', advance(parts)]] as const) {
    for (const size of [1, 2, 3, 7, 64, data.length]) {
      const chunks: Uint8Array[] = []
      for (let at = 0; at < data.length; at += size) chunks.push(new Uint8Array(data.subarray(at, at + size)))
      const { shown, fetches } = await runPage([{ status: 200, headers: STREAM_HEADERS, chunks }])
      t.same(shown, ['<p>one ✓</p>', '<p>two</p>', '<p>three</p>'], `${name}, chunks of ${size}`)
      t.equal(fetches, 1, 'the close delimiter ends it: no reconnect')
    }
  }
})

t.test('a quoted boundary, a part with no header block, and a text part', async (t) => {
  const data = Buffer.from('--x y\r\n\r\n<p>bare</p>\r\n--x y\r\nContent-Type: text/plain\r\n\r\n<not html>\r\n--x y--\r\n')
  const { shown } = await runPage([{ status: 200, headers: { 'content-type': 'multipart/x-mixed-replace; boundary="x y"' }, chunks: [new Uint8Array(data)] }])
  t.same(shown, ['<p>bare</p>', 'text: <not html>'])
})

t.test('503 is tried again after Retry-After; a lost connection is tried again; another error is shown', async (t) => {
  const data = new Uint8Array(standard(parts.slice(0, 1)))
  const second = parts[1] as EncodedPart
  const cut = new Uint8Array(Buffer.concat([m.opening, second.head, second.body, m.delimiter]))
  const { shown, fetches, text } = await runPage([
    { status: 503, headers: { 'retry-after': '1' } },
    { status: 200, headers: STREAM_HEADERS, chunks: [cut] },
    { status: 200, headers: STREAM_HEADERS, chunks: [data] }
  ])
  t.same(shown, ['<p>two</p>', '<p>one ✓</p>'])
  t.equal(fetches, 3)
  t.equal(text, '')
  const refused = await runPage([{ status: 404 }])
  t.equal(refused.text, 'This stream cannot be shown: HTTP 404 ')
})
