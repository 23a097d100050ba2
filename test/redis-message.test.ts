// The binary message a frame travels in through Redis: what goes in comes out, the body as a view, and what is
// not a message of ours is refused with a reason.
import t from 'tap'
import type { PublishedFrame } from '../lib/core/live/source.js'
import { decodeMessage, encodeMessage, MAX_HEAD_BYTES, numberMessage, Numbering } from '../lib/redis/message.js'

const frame = (extra: Partial<PublishedFrame> = {}): PublishedFrame => ({
  body: Buffer.from([0, 1, 13, 10, 255]),
  contentType: 'image/jpeg',
  headers: [['X-Camera', 'hall']],
  extra: [['X-Timestamp', '1.000001']],
  seq: 7,
  at: 0,
  ...extra
})

t.test('a frame comes out as it went in, its body a view into the message', async (t) => {
  const message = encodeMessage(frame(), 'abc')
  t.equal(decodeMessage(message).seq, 0, 'numbered only when sent')
  numberMessage(message, 7)
  const { publisher, seq, frame: got } = decodeMessage(message)
  t.equal(publisher, 'abc')
  t.equal(seq, 7)
  t.equal(got.contentType, 'image/jpeg')
  t.same(got.headers, [['X-Camera', 'hall'], ['X-Timestamp', '1.000001']], 'the publisher\'s headers, then its timestamp')
  t.same([...got.body], [0, 1, 13, 10, 255])
  t.equal(got.body.buffer, message.buffer, 'not copied out of the message')
  const unnumbered = encodeMessage(frame({ contentType: undefined, headers: [], extra: [] }), 'p')
  numberMessage(unnumbered, 2 ** 32 - 1)
  const plain = decodeMessage(unnumbered)
  t.equal(plain.frame.contentType, undefined)
  t.same(plain.frame.headers, [])
  t.equal(plain.seq, 2 ** 32 - 1)
})

t.test('what is not a message of ours, or would write headers the plugin owns, is refused', async (t) => {
  const head = (text: string): Buffer => {
    const fixed = Buffer.alloc(12)
    fixed.write('SPF1')
    fixed.writeUInt32BE(1, 4)
    fixed.writeUInt32BE(Buffer.byteLength(text), 8)
    return Buffer.concat([fixed, Buffer.from(text)])
  }
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from('SPF1'), /not a server push frame message/],
    [Buffer.from('SPF2\0\0\0\0\0\0\0\0'), /not a server push frame message/],
    [Buffer.concat([head('p'), Buffer.from('x')]).subarray(0, 12), /shorter than its head/],
    [head('p\r\nX-Bad'), /a bad header line: "X-Bad"/],
    [head('p\r\n: empty name'), /a bad header line/],
    [head('p\r\nX-Bad: a\u0001b'), /a bad header line/],
    [head('p\r\nContent-Length: 3'), /part header Content-Length is set by the plugin/],
    [head('p\r\nX-A: 1\r\nContent-Type: text/html'), /part header Content-Type is set by the plugin/],
    [head('p\r\nContent-Type: not a type'), /part header Content-Type is set by the plugin/],
    [head('p\r\nX-Frame: 1\r\nSet-Cookie: a=1'), /part header Set-Cookie is not one a frame may carry/],
    [head('p\r\nX-Forwarded-For: 10.0.0.1'), /part header X-Forwarded-For is not one a frame may carry/],
    [head(`p\r\nX-Pad: ${'a'.repeat(MAX_HEAD_BYTES)}`), /a head of 65546 bytes, over the 65536 a message may have/]
  ]
  for (const [message, reason] of cases) t.throws(() => decodeMessage(message), { message: reason }, reason.source)
})

t.test('a body over maxFrameBytes is refused; one of it exactly is not', async (t) => {
  const message = encodeMessage(frame({ body: Buffer.alloc(10) }), 'p')
  t.equal(decodeMessage(message, 10).frame.body.length, 10)
  t.throws(() => decodeMessage(message, 9), { message: 'a frame of 10 bytes, over maxFrameBytes (9)' })
})

t.test('numbering: gaps are counted, copies are not shown twice, and no number can silence a publisher', async (t) => {
  const numbering = new Numbering()
  const take = (publisher: string, seq: number, at: number, stored = false): string => {
    const { news, missed } = numbering.take({ publisher, seq }, stored, at)
    return `${news ? 'shown' : 'not shown'}, ${missed} missed`
  }
  t.equal(take('a', 1, 0), 'shown, 0 missed')
  t.equal(take('a', 1, 1), 'not shown, 0 missed', 'the same frame again')
  t.equal(take('a', 5, 2), 'shown, 3 missed', 'a gap')
  t.equal(take('a', 2 ** 32 - 1, 3), 'shown, 0 missed', 'a jump of billions: a restart (or a forgery), not counted')
  t.equal(take('a', 6, 4), 'shown, 0 missed', 'a step back: the numbering starts over, and the publisher is shown')
  t.equal(take('a', 20_007, 5), 'shown, 0 missed', 'over 10,000 ahead within 1 ms: not counted')
  t.equal(take('a', 30_008, 20_005), 'shown, 10000 missed', '10,000 ahead: counted')
  t.equal(take('a', 60_009, 60_005), 'shown, 30000 missed', 'more, but no more than the ms passed since: a long outage, counted')
  t.equal(take('b', 1, 60_006), 'shown, 0 missed', 'another publisher: no gap')
  numbering.reset()
  // A first viewer's stored frame, and live frames crossing it.
  t.equal(take('a', 100, 0, true), 'shown, 0 missed')
  t.equal(take('a', 99, 1), 'not shown, 0 missed', 'live, behind the stored frame')
  t.equal(take('a', 100, 2), 'not shown, 0 missed', 'live copy of the stored frame')
  t.equal(take('a', 85, 3), 'not shown, 0 missed')
  t.equal(take('a', 84, 4), 'shown, 0 missed', '16 behind: no crossing, a restart')
  t.equal(take('a', 85, 5), 'shown, 0 missed', 'live after live goes on from it')
  t.equal(take('a', 80, 6, true), 'not shown, 0 missed', 'a stored frame behind the live ones (read between a PUBLISH and its SET)')
  t.equal(take('a', 60, 7, true), 'shown, 0 missed', 'far behind: a restart')
  t.equal(take('a', 59, 8), 'not shown, 0 missed', 'a live one crossing it')
  t.equal(take('a', 62, 9), 'shown, 1 missed', 'and the live frames after it')
})
