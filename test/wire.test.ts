// The bytes-on-the-wire functions, unit by unit.
import t from 'tap'
import { mergeHeaders, reservedNames, toHeaderList } from '../lib/core/headers.js'
import { boundaryProblem, isFieldValue, isMediaType, isToken } from '../lib/core/syntax.js'
import { COPY_LIMIT, encodePart, multipart, randomBoundary, responseHead, streamOpening } from '../lib/core/wire.js'
import { laidOut } from './helpers/layout.js'
import { parseMultipart } from './helpers/wire-client.js'

t.test('multipart builds the delimiter lines of RFC 2046 for an unquoted boundary, and one announcement per type', async (t) => {
  const m = multipart('myboundary')
  t.equal(m.contentType, 'multipart/x-mixed-replace;boundary=myboundary')
  t.equal(m.forbidden.toString(), '--myboundary')
  t.equal(m.opening.toString(), '--myboundary\r\n')
  t.equal(m.delimiter.toString(), '\r\n--myboundary\r\n')
  t.equal(m.close.toString(), '\r\n--myboundary--\r\n')
  t.equal(streamOpening(m.opening, false), m.opening, 'a stream opens with the delimiter at byte 0')
  t.equal(streamOpening(m.opening, true).toString(), `${' '.repeat(510)}\r\n--myboundary\r\n`, 'or after 512 bytes of preamble and delimiter, for a browser')
  const jpeg = m.announce('image/jpeg')
  t.equal(jpeg.opening.toString(), '--myboundary\r\nContent-Type: image/jpeg\r\n\r\n', 'advance: the opening announces a first part')
  t.equal(streamOpening(jpeg.opening, true).toString(), `${' '.repeat(510)}\r\n--myboundary\r\nContent-Type: image/jpeg\r\n\r\n`, 'after the preamble for a browser')
  t.equal(jpeg.next.toString(), '\r\n--myboundary\r\nContent-Type: image/jpeg\r\n\r\n', 'and the delimiter that announces the next part')
  t.equal(m.announce('image/jpeg'), jpeg, 'built once per type')
  for (let i = 0; i < 20; i++) m.announce(`image/x-${i}`)
  t.equal(m.announce('image/x-19').type, 'image/x-19', 'past the cache, still right')
  t.not(m.announce('image/x-19'), m.announce('image/x-19'), 'but not kept')
})

t.test('random boundaries are 32 hex digits, valid, and differ', async (t) => {
  const a = randomBoundary()
  const b = randomBoundary()
  t.match(a, /^[0-9a-f]{32}$/)
  t.not(a, b)
  t.equal(boundaryProblem(a), undefined)
})

t.test('responseHead writes the status line, Content-Type first, then the headers in order, CRLF everywhere', async (t) => {
  t.equal(
    responseHead('1.1', 'multipart/x-mixed-replace;boundary=B', [['X-A', '1'], ['X-B', '2']]),
    'HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=B\r\nX-A: 1\r\nX-B: 2\r\n\r\n'
  )
  t.equal(responseHead('1.0', 'x/y', []), 'HTTP/1.0 200 OK\r\nContent-Type: x/y\r\n\r\n')
})

t.test('encodePart writes Content-Type, exact Content-Length, extra headers and the blank line', async (t) => {
  const body = Buffer.from('héllo')
  const announce = multipart('B').announce('text/plain')
  const part = encodePart('text/plain', body, [['X-Frame', '7']], announce)
  t.equal(part.head.toString('latin1'), 'Content-Type: text/plain\r\nContent-Length: 6\r\nX-Frame: 7\r\n\r\n')
  t.same(part.body, body)
  t.equal(part.announce, announce)
  t.same(Buffer.concat(part.standard), Buffer.concat([part.head, body, Buffer.from('\r\n--B\r\n')]), 'standard framing: head, body, delimiter')
  t.same(Buffer.concat(part.advance), Buffer.concat([body, announce.next]), 'advance framing: body, delimiter, the next header block')
  t.equal(part.standard.length, 1, 'standard framing: one buffer')
  t.equal(part.advance.length, 1, 'advance framing: one buffer')
  t.equal(part.standard[0]?.buffer, part.advance[0]?.buffer, 'both layouts are slices of one buffer, the body copied into it')
  t.equal(part.byteLength, part.head.length + body.length)
  body.fill(0)
  t.equal(part.body.toString(), 'héllo', 'a copy: the frame\'s buffer may change without changing the part')
})

t.test('a body over COPY_LIMIT is not copied: its part is header block, body and delimiter as they are', async (t) => {
  const announce = multipart('B').announce('image/jpeg')
  const atLimit = encodePart('image/jpeg', Buffer.alloc(COPY_LIMIT, 1), [], announce)
  t.equal(atLimit.standard.length, 1, 'a body of COPY_LIMIT bytes is still copied')
  const body = Buffer.alloc(COPY_LIMIT + 1, 2)
  const part = encodePart('image/jpeg', body, [['X-Frame', '8']], announce)
  t.equal(part.head.toString('latin1'), `Content-Type: image/jpeg\r\nContent-Length: ${COPY_LIMIT + 1}\r\nX-Frame: 8\r\n\r\n`)
  t.equal(part.body, body, 'the body itself')
  t.same(part.standard, [part.head, body, Buffer.from('\r\n--B\r\n')], 'standard framing: head, body, delimiter')
  t.same(part.advance, [body, announce.next], 'advance framing: body, then the delimiter and the next header block')
  t.equal(part.advance[1], announce.next, 'the announcement shared by every part of its type')
  t.equal(part.byteLength, part.head.length + body.length)
  const m = multipart('B')
  const big = encodePart('text/plain', Buffer.alloc(COPY_LIMIT + 1, 'b'), [], m.announce('text/plain'))
  const small = encodePart('text/plain', Buffer.from('s'), [], m.announce('text/plain'))
  for (const name of ['standard', 'advance'] as const) {
    const read = parseMultipart(laidOut(name, m, [small, big, small]), 'B')
    t.same(read.parts.map((p) => p.body.toString()), ['s', 'b'.repeat(COPY_LIMIT + 1), 's', 's'], `${name}: the same stream, whichever way each part was laid out`)
  }
})

t.test('the close repeats the last part before the close delimiter, or sends an empty part', async (t) => {
  const m = multipart('B')
  const part = encodePart('text/plain', Buffer.from('last'), [], m.announce('text/plain'))
  const closed = parseMultipart(laidOut('standard', m, [part]), 'B')
  t.equal(closed.closed, true)
  t.same(closed.parts.map((p) => p.body.toString()), ['last', 'last'])
  t.equal(closed.epilogue.toString(), '\r\n', 'the close delimiter line ends in CRLF')

  const empty = parseMultipart(laidOut('standard', m, []), 'B')
  t.equal(empty.closed, true)
  t.same(empty.parts.map((p) => [p.rawHeaders, p.body.length]), [[[], 0]], 'standard: an empty part')
  const announcedEmpty = parseMultipart(laidOut('advance', m, []), 'B')
  t.equal(announcedEmpty.closed, true)
  t.same(announcedEmpty.parts.map((p) => [p.rawHeaders, p.body.length]), [[['Content-Type: text/plain'], 0]], 'advance: the part the opening announced, empty')
})

t.test('advance framing closes with the body alone when its type is announced, else its header block first', async (t) => {
  const m = multipart('B')
  const text = m.announce('text/plain')
  const part = encodePart('text/plain', Buffer.from('last'), [['X-Frame', '1']], text)
  const announced = parseMultipart(laidOut('advance', m, [part]), 'B')
  t.equal(announced.closed, true)
  t.same(announced.parts.map((p) => [p.rawHeaders, p.body.toString()]), [[['Content-Type: text/plain'], 'last'], [['Content-Type: text/plain'], 'last']],
    'every part has the announced Content-Type only')

  const html = m.announce('text/html')
  const page = encodePart('text/html', Buffer.from('<p>'), [], html)
  const other = parseMultipart(laidOut('advance', m, [page], part, 'text/html'), 'B')
  t.same(other.parts.map((p) => [p.rawHeaders, p.body.toString()]), [
    [['Content-Type: text/html'], '<p>'],
    [['Content-Type: text/html'], ''],
    [['Content-Type: text/plain'], 'last']
  ], 'a part of another type: the announced part ends empty')
  const unlike = parseMultipart(laidOut('advance', m, [page], page, 'image/jpeg'), 'B')
  t.same(unlike.parts.map((p) => [p.rawHeaders, p.body.toString()]), [
    [['Content-Type: image/jpeg'], ''],
    [['Content-Type: text/html'], '<p>'],
    [['Content-Type: text/html'], '<p>']
  ], 'so does the one the opening announced, when the first part is not of the route\'s type')

  const first = parseMultipart(laidOut('advance', m, [], part), 'B')
  t.same(first.parts.map((p) => [p.rawHeaders, p.body.toString()]), [[['Content-Type: text/plain'], 'last']], 'nothing sent yet: the last part in the block the opening announced')
  const unannounced = parseMultipart(laidOut('advance', m, [], page), 'B')
  t.same(unannounced.parts.map((p) => [p.rawHeaders, p.body.toString()]), [[['Content-Type: text/plain'], ''], [['Content-Type: text/html'], '<p>']],
    'or after it, ended empty, when of another type')
})

t.test('boundaryProblem accepts RFC 2046 token boundaries and explains the rest', async (t) => {
  for (const good of ['myboundary', 'a', 'A-b_c.d+e\'f', '0'.repeat(70)]) t.equal(boundaryProblem(good), undefined, good)
  t.match(boundaryProblem(''), /1 to 70/)
  t.match(boundaryProblem('x'.repeat(71)), /1 to 70.*71/)
  t.match(boundaryProblem('--myboundary'), /leading "--"/)
  for (const bad of ['my boundary', 'abc ', '"quoted"', 'a;b', 'a/b', 'a=b', 'a\r\nb', 'é']) {
    t.match(boundaryProblem(bad), /only letters/, JSON.stringify(bad))
  }
})

t.test('media types, tokens and field values', async (t) => {
  for (const good of ['image/jpeg', 'text/html', 'text/html; charset=utf-8', 'text/html;charset="utf-8"', 'application/vnd.x+json']) {
    t.ok(isMediaType(good), good)
  }
  for (const bad of ['image', 'image/', '/jpeg', 'image/jpeg\r\nX: 1', 'image /jpeg', 'text/html; charset', 'a/b;c="d']) {
    t.notOk(isMediaType(bad), JSON.stringify(bad))
  }
  t.ok(isToken('X-Frame'))
  t.notOk(isToken('X Frame'))
  t.notOk(isToken(''))
  t.ok(isFieldValue('a b\tc é'))
  t.notOk(isFieldValue('a\r\nb'))
  t.notOk(isFieldValue('a\nb'))
  t.notOk(isFieldValue('a\u0000b'))
  t.notOk(isFieldValue('€'), 'outside latin1')
})

t.test('toHeaderList checks names and values and spreads arrays', async (t) => {
  const invalid = (problem: string): Error => new Error(problem)
  t.same(toHeaderList({ 'X-A': 'a', 'X-N': 5, 'Set-Cookie': ['a=1', 'b=2'] }, invalid),
    [['X-A', 'a'], ['X-N', '5'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']])
  t.throws(() => toHeaderList('x', invalid), /must be an object/)
  t.throws(() => toHeaderList(null, invalid), /must be an object/)
  t.throws(() => toHeaderList([['a', 'b']], invalid), /must be an object/)
  t.throws(() => toHeaderList({ 'Bad Name': 'x' }, invalid), /"Bad Name" is not a valid HTTP token/)
  t.throws(() => toHeaderList({ 'X-A': 'a\r\nInjected: 1' }, invalid), /X-A has an invalid value/)
  t.throws(() => toHeaderList({ 'X-A': { no: 1 } }, invalid), /X-A has an invalid value/)
  t.same(reservedNames([['Content-Type', 'x'], ['X-A', 'b'], ['connection', 'c']], new Set(['content-type', 'connection'])),
    ['Content-Type', 'connection'])
})

t.test('mergeHeaders: later lists override by name in place, keep the first spelling, append new names', async (t) => {
  t.same(mergeHeaders(
    [['Cache-Control', 'no-cache'], ['Pragma', 'no-cache'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']],
    [['cache-control', 'private'], ['X-New', '1'], ['X-New', '2']],
    [['set-cookie', 'c=3'], ['x-new', '3']]
  ), [
    ['Cache-Control', 'private'], ['Pragma', 'no-cache'], ['Set-Cookie', 'c=3'], ['X-New', '3']
  ])
})
