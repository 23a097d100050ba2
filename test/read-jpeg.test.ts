// The JPEG splitter: real JPEGs, with and without an EXIF thumbnail (whose own end-of-image marker must not
// cut the frame), garbage between images, in random chunkings; oversize frames end with an error.
// A random chunking that fails names its seed; replay it alone with
// `FUZZ_SEED=<seed> npx tap --disable-coverage test/read-jpeg.test.ts`.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { JpegSplitter, splitJpegs, type JpegSplitterOptions } from '../lib/index.js'
import { chunk, fuzzChunkings, random } from './helpers/chunks.js'

const thumbs = [1, 2, 3, 4, 5, 6].map((i) => readFileSync(new URL(`../example-app/frames/thumb_${i}.jpg`, import.meta.url)))

/**
 * `jpeg` with an EXIF APP1 segment right after its SOI that carries `thumbnail` (a whole JPEG, FFD8..FFD9) the way
 * cameras store one: a TIFF header, an empty IFD0, and IFD1 pointing at the thumbnail's bytes.
 */
function withExifThumbnail (jpeg: Buffer, thumbnail: Buffer): Buffer {
  const tiff = Buffer.alloc(8 + 6 + 2 + 2 * 12 + 4)
  tiff.write('II*\0', 0, 'latin1')
  tiff.writeUInt32LE(8, 4) // IFD0 at 8
  tiff.writeUInt16LE(0, 8) // no entries
  tiff.writeUInt32LE(14, 10) // IFD1 at 14
  tiff.writeUInt16LE(2, 14)
  const entry = (at: number, tag: number, value: number): void => {
    tiff.writeUInt16LE(tag, at)
    tiff.writeUInt16LE(4, at + 2) // LONG
    tiff.writeUInt32LE(1, at + 4)
    tiff.writeUInt32LE(value, at + 8)
  }
  entry(16, 0x0201, tiff.length) // JPEGInterchangeFormat: the thumbnail follows the IFDs
  entry(28, 0x0202, thumbnail.length) // JPEGInterchangeFormatLength
  tiff.writeUInt32LE(0, 40) // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, thumbnail])
  const header = Buffer.from([0xff, 0xe1, 0, 0])
  header.writeUInt16BE(payload.length + 2, 2)
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)])
}

const FRAMES = [
  thumbs[0] as Buffer,
  withExifThumbnail(thumbs[1] as Buffer, thumbs[5] as Buffer),
  thumbs[2] as Buffer,
  withExifThumbnail(thumbs[3] as Buffer, thumbs[0] as Buffer),
  thumbs[4] as Buffer
]

function split (pieces: Buffer[], options?: JpegSplitterOptions): Buffer[] {
  const splitter = new JpegSplitter(options)
  return pieces.flatMap((piece) => splitter.push(piece))
}

function same (got: Buffer[], expected: Buffer[]): boolean {
  return got.length === expected.length && got.every((frame, i) => frame.equals(expected[i] as Buffer))
}

t.test('the EXIF test frames hold a second SOI..EOI inside APP1', async (t) => {
  const framed = FRAMES[1] as Buffer
  t.equal(framed.indexOf(Buffer.from([0xff, 0xd9])) < framed.length - 2, true, 'an EOI before the end')
  t.equal(framed.subarray(2, 4).toString('hex'), 'ffe1')
})

t.test('back-to-back frames, in one chunk, byte by byte, and in random chunkings', async (t) => {
  const data = Buffer.concat(FRAMES)
  t.ok(same(split([data]), FRAMES), 'one chunk')
  t.ok(same(split([...data].map((byte) => Buffer.of(byte))), FRAMES), 'one byte per chunk')
  const fuzz = fuzzChunkings(data, 200, (pieces) => same(split(pieces), FRAMES))
  t.same(fuzz.failedSeeds, [], fuzz.describe)
})

t.test('garbage before, between and after images is skipped', async (t) => {
  const garbage = [Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), Buffer.from([0x00, 0xff, 0x00, 0xff, 0xff, 0x12]), Buffer.from('\r\n--frame\r\n')]
  const data = Buffer.concat(FRAMES.flatMap((frame, i) => [garbage[i % garbage.length] as Buffer, frame]).concat(garbage))
  const fuzz = fuzzChunkings(data, 50, (pieces) => same(split(pieces), FRAMES))
  t.same(fuzz.failedSeeds, [], fuzz.describe)
})

t.test('a frame that breaks off is dropped and the next one found', async (t) => {
  const cut = (thumbs[0] as Buffer).subarray(0, 400)
  t.ok(same(split([Buffer.concat([cut, thumbs[1] as Buffer])]), [thumbs[1] as Buffer]), 'cut in its scan: the next SOI starts over')
  const broken = Buffer.concat([(thumbs[0] as Buffer).subarray(0, 2), Buffer.from('not a marker')])
  t.ok(same(split([Buffer.concat([broken, thumbs[2] as Buffer])]), [thumbs[2] as Buffer]), 'no marker after SOI')
})

t.test('markers by the book: fill bytes, standalone markers, stuffed and restart bytes in the scan', async (t) => {
  const frame = Buffer.from([
    0xff, 0xd8, // SOI
    0xff, 0xff, 0xe0, 0x00, 0x04, 0xaa, 0xbb, // a fill byte, then APP0 of length 4
    0xff, 0x01, // TEM: no length
    0xff, 0xfe, 0x00, 0x02, // an empty comment
    0xff, 0xda, 0x00, 0x02, // SOS with an empty header
    0x12, 0xff, 0x00, 0x34, 0xff, 0xd3, 0x56, 0xff, 0xff, 0xd4, 0x78, // scan: stuffed 00, RST3, a fill byte and RST4
    0xff, 0xff, 0xd9 // fill, EOI
  ])
  for (const pieces of [[frame], [...frame].map((byte) => Buffer.of(byte))]) t.ok(same(split(pieces), [frame]))
  const broken = [
    Buffer.from([0xff, 0xd8, 0xff, 0x00]), // 00 is no marker outside a scan
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01]) // a segment length below 2
  ]
  for (const bad of broken) t.ok(same(split([Buffer.concat([bad, thumbs[0] as Buffer])]), [thumbs[0] as Buffer]), bad.toString('hex'))
  t.ok(same(split([Buffer.from([0xff, 0xd8, 0xff, 0xd9]), thumbs[1] as Buffer]), [thumbs[1] as Buffer]), 'an end before any image data is no frame')
  for (const bad of [0, -5, Number.NaN, Infinity]) {
    t.throws(() => new JpegSplitter({ maxFrameBytes: bad }), { code: 'FST_SERVER_PUSH_INVALID_OPTION', message: /splitJpegs\(\): maxFrameBytes must be a finite number >= 1/ })
  }
})

t.test('a frame over maxFrameBytes ends with FST_SERVER_PUSH_BAD_JPEG, in any chunking', async (t) => {
  const big = thumbs[0] as Buffer
  for (const pieces of [[big], chunk(big, random(1)), chunk(big, random(2))]) {
    t.throws(() => split(pieces, { maxFrameBytes: big.length - 1 }), { code: 'FST_SERVER_PUSH_BAD_JPEG', message: /larger than maxFrameBytes/ })
  }
  t.throws(() => split([big.subarray(0, 2000)], { maxFrameBytes: 1000 }), { code: 'FST_SERVER_PUSH_BAD_JPEG' }, 'before its end: memory stays bounded')
  t.ok(same(split([big], { maxFrameBytes: big.length }), [big]), 'a frame of exactly maxFrameBytes passes')
})

t.test('splitJpegs reads any async iterable of bytes', async (t) => {
  async function * pieces (): AsyncGenerator<Uint8Array> { yield * chunk(Buffer.concat(FRAMES), random(3)).map((piece) => new Uint8Array(piece)) }
  const frames: Buffer[] = []
  for await (const frame of splitJpegs(pieces())) frames.push(frame)
  t.ok(same(frames, FRAMES))
})
