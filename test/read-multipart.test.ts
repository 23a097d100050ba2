// The multipart reader, property-style: streams built from real JPEGs and text parts in every layout cameras
// send, cut into chunks at random, must read back as exactly the parts that went in; bad input ends in an error.
// A random chunking that fails names its seed; replay it alone with
// `FUZZ_SEED=<seed> npx tap --disable-coverage test/read-multipart.test.ts`.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { boundaryOf, MultipartParser, readMultipart, type MultipartReaderOptions, type ReadPart } from '../lib/index.js'
import { chunk, fuzzChunkings, random } from './helpers/chunks.js'

const jpegs = [1, 2, 3, 4, 5].map((i) => readFileSync(new URL(`../example-app/frames/thumb_${i}.jpg`, import.meta.url)))
const texts = ['<h3>12:00:00</h3>', '', 'plain text with --dashes and\r\nline breaks\n', '<p>é ✓</p>'].map((text) => Buffer.from(text))

interface Sent { type: string, body: Buffer }
const SENT: Sent[] = [
  ...jpegs.map((body) => ({ type: 'image/jpeg', body })),
  ...texts.map((body) => ({ type: 'text/html', body }))
]

/** How one camera lays its stream out. */
interface Layout {
  name: string
  /** The Content-Type header's boundary parameter as the camera writes it. */
  header: string
  build: (parts: Sent[]) => Buffer
}

function stream (parts: Sent[], { eol = '\r\n', dashes = '--', boundary = 'myboundary', lengths = true, preamble = '', close = true } = {}): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble, 'latin1')]
  for (const part of parts) {
    const length = lengths ? `Content-Length: ${part.body.length}${eol}` : ''
    chunks.push(Buffer.from(`${dashes}${boundary}${eol}Content-Type: ${part.type}${eol}${length}${eol}`, 'latin1'), part.body, Buffer.from(eol))
  }
  chunks.push(Buffer.from(close ? `${dashes}${boundary}--${eol}` : '', 'latin1'))
  return Buffer.concat(chunks)
}

const LAYOUTS: Layout[] = [
  { name: 'CRLF with Content-Length', header: 'multipart/x-mixed-replace;boundary=myboundary', build: (parts) => stream(parts) },
  { name: 'no Content-Length: delimiter scan', header: 'multipart/x-mixed-replace;boundary=myboundary', build: (parts) => stream(parts, { lengths: false }) },
  { name: 'leading CRLF', header: 'multipart/x-mixed-replace; boundary=myboundary', build: (parts) => stream(parts, { preamble: '\r\n' }) },
  { name: 'preamble', header: 'multipart/x-mixed-replace;boundary=myboundary', build: (parts) => stream(parts, { preamble: 'This is a multipart stream.\r\n--notit\r\n' }) },
  { name: 'quoted boundary', header: 'multipart/x-mixed-replace; boundary="my boundary"', build: (parts) => stream(parts, { boundary: 'my boundary' }) },
  { name: 'boundary with leading -- in the header', header: 'multipart/x-mixed-replace;boundary=--myboundary', build: (parts) => stream(parts, { dashes: '--' }) },
  { name: 'RFC dashes on a boundary given with --', header: 'multipart/x-mixed-replace;boundary=--myboundary', build: (parts) => stream(parts, { dashes: '----' }) },
  { name: 'LF-only line endings', header: 'multipart/x-mixed-replace;boundary=myboundary', build: (parts) => stream(parts, { eol: '\n' }) },
  { name: 'LF-only, no Content-Length', header: 'multipart/x-mixed-replace;boundary=myboundary', build: (parts) => stream(parts, { eol: '\n', lengths: false }) },
  { name: 'no close delimiter: the input just ends', header: 'multipart/x-mixed-replace;boundary=myboundary', build: (parts) => stream(parts, { close: false }) }
]

function readAll (pieces: readonly Buffer[], boundary: string, options?: MultipartReaderOptions): ReadPart[] {
  const parser = new MultipartParser(boundary, options)
  const parts = pieces.flatMap((piece) => parser.push(piece))
  return [...parts, ...parser.end()]
}

function same (read: ReadPart[], sent: Sent[]): boolean {
  return read.length === sent.length && read.every((part, i) => part.headers['content-type'] === sent[i]?.type && part.body.equals(sent[i]?.body as Buffer))
}

t.test('boundaryOf reads plain, quoted and dashed boundaries', async (t) => {
  t.equal(boundaryOf('multipart/x-mixed-replace;boundary=myboundary'), 'myboundary')
  t.equal(boundaryOf('multipart/x-mixed-replace; boundary="my boundary"; charset=x'), 'my boundary')
  t.equal(boundaryOf('multipart/x-mixed-replace;boundary=--myboundary'), 'myboundary')
  t.equal(boundaryOf('Multipart/X-Mixed-Replace; BOUNDARY = abc ; x=y'), 'abc')
  t.equal(boundaryOf('image/jpeg'), undefined)
  t.equal(boundaryOf('multipart/x-mixed-replace;boundary=""'), undefined)
  t.equal(boundaryOf('multipart/x-mixed-replace;boundary=--'), undefined)
})

t.test('every layout, in one chunk, byte by byte and in random chunkings, reads back as exactly the parts sent', async (t) => {
  for (const layout of LAYOUTS) {
    const boundary = boundaryOf(layout.header) as string
    const data = layout.build(SENT)
    t.ok(same(readAll([data], boundary), SENT), `${layout.name}: in one chunk`)
    t.ok(same(readAll([...data].map((byte) => Buffer.of(byte)), boundary), SENT), `${layout.name}: one byte per chunk`)
    const fuzz = fuzzChunkings(data, 60, (pieces) => same(readAll(pieces, boundary), SENT))
    t.same(fuzz.failedSeeds, [], `${layout.name}: ${fuzz.describe}`)
  }
})

t.test('the plugin\'s own streams read back, in both framings', async (t) => {
  const { encodePart, multipart } = await import('../lib/core/wire.js')
  const { laidOut } = await import('./helpers/layout.js')
  const m = multipart('B')
  const parts = SENT.map((sent) => encodePart(sent.type, sent.body, [['X-Timestamp', '1.000001']], m.announce(sent.type)))
  const last = SENT.at(-1) as Sent
  const standard = laidOut('standard', m, parts)
  const read = readAll(chunk(standard, random(1)), 'B')
  t.ok(same(read, [...SENT, last]), 'every part, then the last one repeated before the close')
  t.equal(read[0]?.headers['x-timestamp'], '1.000001')
  // Advance framing: an empty part wherever the type changes.
  let announced: string | undefined
  const expected: Sent[] = []
  for (const part of parts) {
    if (announced !== undefined && announced !== part.announce.type) expected.push({ type: announced, body: Buffer.alloc(0) })
    announced = part.announce.type
    expected.push({ type: part.announce.type, body: part.body })
  }
  expected.push(last)
  t.ok(same(readAll(chunk(laidOut('advance', m, parts, undefined, SENT[0]?.type), random(2)), 'B'), expected),
    'advance framing: no Content-Length, every body found by its delimiter')
})

t.test('an empty header block in LF-only streams, and folded header lines', async (t) => {
  const read = readAll([Buffer.from('--B\n\nbare\n--B\nX-Long: one\n two\n\tthree\nContent-Length: 1\n\nx\n--B--\n')], 'B')
  t.same(read.map((part) => [part.headers, part.body.toString()]), [[{}, 'bare'], [{ 'x-long': 'one two three', 'content-length': '1' }, 'x']])
})

t.test('a stream ending right after a delimiter line ends between parts, as ffmpeg\'s mpjpeg writes it', async (t) => {
  // Each part after its delimiter, and no close delimiter: the stream's end comes after the last part's delimiter.
  const data = Buffer.from('--ffmpeg\r\nContent-type: text/plain\r\nContent-length: 2\r\n\r\nhi\r\n--ffmpeg\r\n')
  for (const pieces of [[data], chunk(data, random(1)), chunk(data, random(2))]) {
    t.same(readAll(pieces, 'ffmpeg').map((part) => part.body.toString()), ['hi'])
  }
})

t.test('readMultipart reads any async iterable of bytes and stops at the close delimiter', async (t) => {
  const data = Buffer.concat([stream(SENT.slice(0, 2)), Buffer.from('epilogue, ignored')])
  async function * pieces (): AsyncGenerator<Uint8Array> { yield * chunk(data, random(3)).map((piece) => new Uint8Array(piece)) }
  const read: ReadPart[] = []
  for await (const part of readMultipart(pieces(), 'myboundary')) read.push(part)
  t.ok(same(read, SENT.slice(0, 2)))
})

t.test('malformed and oversize input ends with FST_SERVER_PUSH_BAD_MULTIPART, whatever the chunking', async (t) => {
  const cases: Array<[string, Buffer, RegExp, MultipartReaderOptions?]> = [
    ['a header line without a name', Buffer.from('--B\r\nno colon here\r\n\r\nbody\r\n--B--\r\n'), /header line has no name/],
    ['a Content-Length that is not a number', Buffer.from('--B\r\nContent-Length: 12abc\r\n\r\nbody\r\n--B--\r\n'), /Content-Length "12abc" is not a number/],
    ['a Content-Length over maxPartBytes', Buffer.from('--B\r\nContent-Length: 1000\r\n\r\n'), /Content-Length 1000 is larger than maxPartBytes \(100\)/, { maxPartBytes: 100 }],
    ['a scanned part over maxPartBytes', Buffer.concat([Buffer.from('--B\r\n\r\n'), Buffer.alloc(5000, 0x61), Buffer.from('\r\n--B--\r\n')]), /a part is larger than maxPartBytes \(1000\)/, { maxPartBytes: 1000 }],
    ['a header block over maxHeaderBytes', Buffer.from(`--B\r\nX-Long: ${'a'.repeat(3000)}\r\n\r\n`), /header block is larger than maxHeaderBytes \(1024\)/, { maxHeaderBytes: 1024 }],
    ['no delimiter at all', Buffer.alloc(5000, 0x2d), /no delimiter line --B within 1000 bytes/, { maxPartBytes: 1000 }],
    ['a delimiter line that never ends', Buffer.concat([Buffer.from('--B'), Buffer.alloc(2000, 0x20)]), /a delimiter line does not end/],
    ['the stream ends in the middle of a part', Buffer.from('--B\r\nContent-Length: 10\r\n\r\nabc'), /ended in the middle of a part \(3 body bytes read\)/],
    ['the stream ends in the middle of a scanned part', Buffer.from('--B\r\n\r\nabc'), /ended in the middle of a part/],
    ['the stream ends in a header block', Buffer.from('--B\r\nContent-Type: image/jpeg\r\n'), /ended in the middle of a part's headers/]
  ]
  for (const [name, data, message, options] of cases) {
    for (const [how, pieces] of [['one chunk', [data]], ['seed 1', chunk(data, random(1))], ['seed 2', chunk(data, random(2))]] as const) {
      t.throws(() => readAll(pieces, 'B', options), { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message }, `${name} (${how})`)
    }
  }
  t.throws(() => new MultipartParser('--'), { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message: /boundary is empty/ })
})

t.test('a Content-Length that does not match its body is an error, not a cut or merged frame', async (t) => {
  for (const [name, length] of [['too long', 8], ['too short', 3]] as const) {
    const data = Buffer.from(`--B\r\nContent-Length: ${length}\r\n\r\nhello\r\n--B\r\nContent-Length: 2\r\n\r\nhi\r\n--B--\r\n`)
    t.throws(() => readAll([data], 'B'), { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message: new RegExp(`Content-Length \\(${length}\\) does not match its body`) }, name)
  }
  const tight = readAll([Buffer.from('--B\r\nContent-Length: 2\r\n\r\nhi--B\r\nContent-Length: 2\r\n\r\nho\r\n\r\n----B--\r\n')], 'B')
  t.same(tight.map((part) => part.body.toString()), ['hi', 'ho'], 'no line end, or extra ones and dashes, after a counted body')
  t.throws(() => readAll([Buffer.from('--B\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n\r\n--B--\r\n')], 'B'), { message: /does not match/ }, 'more than 4 line ends')
})

t.test('a counted part goes out with its delimiter, so a wrong Content-Length yields nothing; a whole JPEG goes at once', async (t) => {
  const text = new MultipartParser('B')
  t.same(text.push(Buffer.from('--B\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello\r\n')), [], 'held: nothing shows yet that 5 was right')
  t.same(text.push(Buffer.from('--B')).map((part) => part.body.toString()), ['hello'], 'out with its delimiter')
  const jpeg = jpegs[0] as Buffer
  const head = (length: number): Buffer => Buffer.from(`--B\r\nContent-Type: image/jpeg\r\nContent-Length: ${length}\r\n\r\n`)
  const camera = new MultipartParser('B')
  t.same(camera.push(Buffer.concat([head(jpeg.length), jpeg, Buffer.from('\r\n')])).map((part) => part.body.equals(jpeg)), [true],
    'a whole JPEG at once: a camera that sends each delimiter with its next frame costs no frame of delay')
  // 10 bytes short: the JPEG is not whole, and what follows its count is the rest of it.
  const short = new MultipartParser('B')
  t.same(short.push(Buffer.concat([head(jpeg.length - 10), jpeg.subarray(0, jpeg.length - 10)])), [], 'a cut JPEG is held')
  t.throws(() => short.push(Buffer.concat([jpeg.subarray(jpeg.length - 10), Buffer.from('\r\n--B\r\n')])), { message: /does not match its body/ }, 'then refused')
  t.throws(() => short.end(), { message: /does not match its body/ }, 'and never handed out, not even at the end')
  // 500 bytes long: the count runs into the next part, whose bytes end it.
  const long = new MultipartParser('B')
  const next = Buffer.concat([head(jpeg.length), jpeg, Buffer.from('\r\n')])
  t.throws(() => long.push(Buffer.concat([head(jpeg.length + 500), jpeg, Buffer.from('\r\n'), next, next])), { message: /does not match its body/ })
})

t.test('a line that only starts with the boundary is body, not a delimiter', async (t) => {
  const body = 'line one\r\n--Bravo is not the boundary\r\nend'
  const data = Buffer.from(`--B\r\n\r\n${body}\r\n--B\r\n\r\nnext\r\n--B--\r\n`)
  for (const [how, pieces] of [['one chunk', [data]], ['bytes', [...data].map((byte) => Buffer.of(byte))], ['random', chunk(data, random(5))]] as const) {
    t.same(readAll(pieces, 'B').map((part) => part.body.toString()), [body, 'next'], how)
  }
})

t.test('parts before a fault in the same chunk are returned; the fault comes with the next call', async (t) => {
  const parser = new MultipartParser('B')
  const parts = parser.push(Buffer.from('--B\r\n\r\ngood\r\n--B\r\nno colon\r\n\r\n'))
  t.same(parts.map((part) => part.body.toString()), ['good'])
  t.throws(() => parser.end(), { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message: /header line has no name/ })
  t.throws(() => parser.push(Buffer.from('x')), { code: 'FST_SERVER_PUSH_BAD_MULTIPART' })
})

t.test('limits must be whole positive numbers', async (t) => {
  for (const bad of [0, -1, Number.NaN, Infinity]) {
    t.throws(() => new MultipartParser('B', { maxPartBytes: bad }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /readMultipart\(\): maxPartBytes must be a finite number >= 1/ })
    t.throws(() => new MultipartParser('B', { maxHeaderBytes: bad }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /maxHeaderBytes must be/ })
  }
})

t.test('readMultipart passes the error on, and a stream ending between parts is simply the end', async (t) => {
  async function * pieces (data: Buffer): AsyncGenerator<Uint8Array> { yield data }
  await t.rejects(async () => {
    for await (const part of readMultipart(pieces(Buffer.from('--B\r\n\r\nabc')), 'B')) t.fail(`no part expected, got ${part.body.length} bytes`)
  }, { code: 'FST_SERVER_PUSH_BAD_MULTIPART' })
  const read: ReadPart[] = []
  for await (const part of readMultipart(pieces(stream(SENT.slice(0, 1), { close: false })), 'myboundary')) read.push(part)
  t.ok(same(read, SENT.slice(0, 1)))
})

t.test('a boundary RFC 2046 forbids is refused with FST_SERVER_PUSH_BAD_MULTIPART saying why; every one it allows is read', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['a--'.repeat(4000), /the boundary is 12000 characters long; RFC 2046 allows at most 70/],
    ['x'.repeat(71), /71 characters long/],
    ['-'.repeat(60) + 'x'.repeat(11), /71 characters long/],
    ['my;boundary', /the boundary holds ";", which RFC 2046 does not allow/],
    ['tab\there', /holds "\\t"/],
    ['é', /holds "é"/],
    ['ends in a space ', /the boundary ends in a space, which RFC 2046 does not allow/]
  ]
  for (const [boundary, message] of refused) {
    t.throws(() => new MultipartParser(boundary), { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message }, JSON.stringify(boundary.slice(0, 20)))
  }
  async function * input (): AsyncGenerator<Uint8Array> { yield Buffer.from('--x\r\n\r\n') }
  await t.rejects(async () => {
    for await (const part of readMultipart(input(), 'x'.repeat(71))) t.fail(`no part expected, got ${part.body.length} bytes`)
  }, { code: 'FST_SERVER_PUSH_BAD_MULTIPART', message: /at most 70/ })
  // Every bchar, 70 long, and with leading dashes as cameras write them.
  for (const boundary of ["09AZaz'()+_,-./:=? x".padEnd(70, 'b'), '--myboundary', '-'.repeat(20) + 'x']) {
    const bare = boundary.replace(/^-+/, '')
    const data = stream(SENT, { boundary: bare, lengths: false })
    t.ok(same(readAll([data], boundary), SENT), `${JSON.stringify(boundary.slice(0, 20))}: in one chunk`)
    t.ok(same(readAll([...data].map((byte) => Buffer.of(byte)), boundary), SENT), `${JSON.stringify(boundary.slice(0, 20))}: byte by byte`)
  }
})

t.test('periodic boundaries, and bodies full of near-delimiters, read back exactly in every chunking', async (t) => {
  // A delimiter split anywhere across chunks, overlapping partial matches, near-misses at the start of a line.
  for (const boundary of ['a--a--a', 'aaaaaaaa', 'ab-ab-ab-ab', 'x', ('a--'.repeat(23) + 'a')]) {
    const token = `--${boundary}`
    // None is a delimiter: each whole token is either inside a line or followed by a byte that cannot end one.
    const noise = [
      `${token.slice(0, -1)}\r\n${token}z${token}${token}z`,
      `--${token}x\r\n${token}y`,
      `\r\n${token.slice(0, token.length - 1)}\n-${token}!`,
      `z${token}${token.slice(0, 3)}`
    ].map((text) => ({ type: 'text/plain', body: Buffer.from(text) }))
    const parts = [...noise, { type: 'image/jpeg', body: jpegs[0] as Buffer }, ...noise]
    for (const lengths of [false, true]) {
      const data = stream(parts, { boundary, lengths })
      const name = `${boundary.slice(0, 12)} ${lengths ? 'counted' : 'scanned'}`
      t.ok(same(readAll([data], boundary), parts), `${name}: in one chunk`)
      t.ok(same(readAll([...data].map((byte) => Buffer.of(byte)), boundary), parts), `${name}: byte by byte`)
      const fuzz = fuzzChunkings(data, 40, (pieces) => same(readAll(pieces, boundary), parts))
      t.same(fuzz.failedSeeds, [], `${name}: ${fuzz.describe}`)
    }
  }
})
