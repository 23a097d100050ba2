// The binary message a frame travels in through Redis: what goes in comes out, the body as a view, and what is
// not a message of ours is refused with a reason.
import t from 'tap'
import type { PublishedFrame } from '../lib/core/live/source.js'
import { decodeMessage, encodeMessage, numberMessage } from '../lib/redis/message.js'

const frame = (extra: Partial<PublishedFrame> = {}): PublishedFrame => ({
  body: Buffer.from([0, 1, 13, 10, 255]),
  contentType: 'image/jpeg',
  headers: [['X-Camera', 'hall']],
  extra: [['X-Timestamp', '1.000001']],
  seq: 7,
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
    [head('p\r\nContent-Length: 3'), /a header the plugin sets itself: Content-Length/],
    [head('p\r\nX-A: 1\r\nContent-Type: text/html'), /a header the plugin sets itself: Content-Type/],
    [head('p\r\nContent-Type: not a type'), /a header the plugin sets itself: Content-Type/]
  ]
  for (const [message, reason] of cases) t.throws(() => decodeMessage(message), { message: reason }, reason.source)
})
