// The reader page's script (the <push-view> code in its whole-document mode), run in node:vm against a stand-in
// fetch and document: each part is shown once complete, in any chunking and either framing; repeats are not shown
// again; a standard part shows on its Content-Length, before any delimiter follows; a stream that ends (closed or
// cut), a full route and a refusal are all tried again, each after its wait.
import vm from 'node:vm'
import t from 'tap'
import { READER_PAGE } from '../lib/core/reader-page.js'
import { encodePart, multipart, type EncodedPart } from '../lib/core/wire.js'
import { laidOut } from './helpers/layout.js'

const SCRIPT = /<script>([^]*)<\/script>/.exec(READER_PAGE)?.[1] as string

interface Reply { status: number, headers?: Record<string, string>, chunks?: Uint8Array[] }

interface Run { shown: string[], fetches: number, text: string, waits: number[] }

/**
 * Runs the page against `replies` (one per fetch); resolves with what it showed and the waits it chose before
 * each fetch after the first, once it asks for one more than there are replies (that one never answers).
 */
async function runPage (replies: Reply[]): Promise<Run> {
  const shown: string[] = []
  let fetches = 0
  const waits: number[] = []
  const signals: AbortSignal[] = []
  const accepts: string[] = []
  const body = { textContent: '', replaceChildren: (child: { textContent: string }) => shown.push(`text: ${child.textContent}`) }
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => { finish = resolve })
  const context = vm.createContext({
    location: { href: 'http://127.0.0.1/board' },
    TextDecoder,
    Uint8Array,
    performance,
    // The page's waits are noted and skipped; its once-a-second tick (the silence watch) never comes.
    setTimeout: (fn: () => void, ms: number) => { waits.push(ms); return setImmediate(fn) },
    clearTimeout: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
    DOMParser: class { parseFromString (html: string) { return { documentElement: { html } } } },
    document: {
      hidden: false,
      addEventListener () {},
      body,
      documentElement: {},
      adoptNode: (node: unknown) => node,
      createElement: () => ({ textContent: '' }),
      replaceChild (node: { html: string }) { shown.push(node.html) }
    },
    AbortController,
    fetch: async (_url: string, init: { headers: Record<string, string>, signal: AbortSignal }) => {
      accepts.push(init.headers.accept)
      const reply = replies[fetches++]
      if (reply === undefined) {
        finish()
        return await new Promise(() => {})
      }
      signals.push(init.signal)
      if (reply.status === 0) throw new Error('offline')
      const chunks = [...(reply.chunks ?? [])]
      const headers = new Map(Object.entries(reply.headers ?? {}))
      return {
        ok: reply.status === 200,
        status: reply.status,
        statusText: reply.status === 200 ? 'OK' : 'Nope',
        headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
        body: {
          cancel: async () => {},
          getReader: () => ({ read: async () => chunks.length > 0 ? { value: chunks.shift(), done: false } : { value: undefined, done: true } })
        }
      }
    }
  })
  vm.runInContext(SCRIPT, context)
  await finished
  // Every attempt's request is let go once the page is done with it, so none is left open on the server.
  if (!signals.every((signal) => signal.aborted)) throw new Error('an attempt was not aborted')
  // The same bytes as multipart/mixed, which WebKit's fetch() can read.
  if (!accepts.every((accept) => accept === 'multipart/mixed')) throw new Error(`asked for ${accepts.join(', ')}`)
  return { shown, fetches, text: body.textContent, waits }
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
      const { shown, fetches, waits } = await runPage([{ status: 200, headers: STREAM_HEADERS, chunks }])
      t.same(shown, ['<p>one ✓</p>', '<p>two</p>', '<p>three</p>'], `${name}, chunks of ${size}`)
      t.equal(fetches, 2, 'the close delimiter ends the stream, and the page asks again')
      t.ok(waits.length === 1 && (waits[0] as number) >= 250 && (waits[0] as number) <= 500, `after the first wait, as the stream delivered: ${waits.join()}`)
    }
  }
})

t.test('a quoted boundary, a part with no header block, and a text part', async (t) => {
  const data = Buffer.from('--x y\r\n\r\n<p>bare</p>\r\n--x y\r\nContent-Type: text/plain\r\n\r\n<not html>\r\n--x y--\r\n')
  const { shown } = await runPage([{ status: 200, headers: { 'content-type': 'multipart/x-mixed-replace; boundary="x y"' }, chunks: [new Uint8Array(data)] }])
  t.same(shown, ['<p>bare</p>', 'text: <not html>'])
})

t.test('parts larger than the page\'s first buffer, in small chunks, in both framings', async (t) => {
  const big = [150_000, 70_000, 300_000].map((size, i) => encodePart(HTML, Buffer.from(`<p>${i}</p>`.padEnd(size, '.')), [], m.announce(HTML)))
  for (const [name, data] of [['standard', standard(big)], ['advance', advance(big)]] as const) {
    for (const size of [997, 16_384]) {
      const chunks: Uint8Array[] = []
      for (let at = 0; at < data.length; at += size) chunks.push(new Uint8Array(data.subarray(at, at + size)))
      const { shown } = await runPage([{ status: 200, headers: STREAM_HEADERS, chunks }])
      t.same(shown.map((html) => [html.slice(0, 9), html.length]), big.map((part, i) => [`<p>${i}</p>.`, part.body.length]), `${name}, chunks of ${size}`)
    }
  }
})

t.test('a standard part is shown on its Content-Length, before the delimiter that follows it', async (t) => {
  const first = parts[0] as EncodedPart
  const { shown } = await runPage([{ status: 200, headers: STREAM_HEADERS, chunks: [new Uint8Array(Buffer.concat([m.opening, first.head, first.body]))] }])
  t.same(shown, ['<p>one ✓</p>'])
})

t.test('503 is tried again after Retry-After; a lost connection and a refusal are tried again, later each time', async (t) => {
  const data = new Uint8Array(standard(parts.slice(0, 1)))
  const second = parts[1] as EncodedPart
  const cut = new Uint8Array(Buffer.concat([m.opening, second.head, second.body, m.delimiter]))
  const { shown, fetches, text, waits } = await runPage([
    { status: 503, headers: { 'retry-after': '2' } },
    { status: 200, headers: STREAM_HEADERS, chunks: [cut] },
    { status: 0 },
    { status: 0 },
    { status: 200, headers: STREAM_HEADERS, chunks: [data] }
  ])
  t.same(shown, ['<p>two</p>', '<p>one ✓</p>'])
  t.equal(fetches, 6)
  t.equal(text, 'This stream cannot be shown now: HTTP 503 Nope', 'the full route said so while nothing was shown')
  t.ok((waits[0] as number) >= 2000 && (waits[0] as number) <= 2500, `Retry-After: ${waits[0]}`)
  const [, afterCut = 0, afterFirstFailure = 0, afterSecondFailure = 0] = waits
  t.ok(afterCut <= 500 && afterFirstFailure >= 500 && afterSecondFailure >= 1000, `the wait doubles per failure: ${waits.join()}`)
  const refused = await runPage([{ status: 404 }, { status: 404 }])
  t.equal(refused.text, 'This stream cannot be shown now: HTTP 404 Nope')
  t.equal(refused.fetches, 3, 'and asked again')
})
