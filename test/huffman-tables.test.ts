// JPEG frames without Huffman tables, as USB webcams send them, get the standard ones: the test strips them from
// a JPEG that ffmpeg encoded with the standard tables, and ffmpeg decodes what the viewers get to exactly the
// original's pixels. Frames with tables of their own, and other types, go out byte for byte.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { createLiveSource, fromDirectory } from '../lib/index.js'
import { createSnapshotHandler } from '../lib/node.js'
import { STANDARD_DHT, withHuffmanTables } from '../lib/core/huffman-tables.js'
import { startApp, tempDir } from './helpers/app.js'
import { RawClient } from './helpers/wire-client.js'

const dir = tempDir('huffman')

/** A 64x48 test pattern encoded by ffmpeg with `-huffman huffman` tables: `default` (Annex K) or `optimal`. */
function encoded (huffman: 'default' | 'optimal'): Buffer {
  const file = join(dir, `${huffman}.jpg`)
  execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1',
    '-huffman', huffman, file])
  return readFileSync(file)
}

/** The JPEG's segments before its scan, by marker; the scan and what follows as one more. */
function segments (jpeg: Buffer): Array<{ marker: number, bytes: Buffer }> {
  const found: Array<{ marker: number, bytes: Buffer }> = [{ marker: 0xd8, bytes: jpeg.subarray(0, 2) }]
  for (let at = 2; ;) {
    const marker = jpeg[at + 1] as number
    if (marker === 0xda) {
      found.push({ marker, bytes: jpeg.subarray(at) })
      return found
    }
    const end = at + 2 + jpeg.readUInt16BE(at + 2)
    found.push({ marker, bytes: jpeg.subarray(at, end) })
    at = end
  }
}

const withoutTables = (jpeg: Buffer): Buffer => Buffer.concat(segments(jpeg).filter(({ marker }) => marker !== 0xc4).map(({ bytes }) => bytes))

/** The RGB pixels ffmpeg decodes `jpeg` to. */
function pixels (jpeg: Buffer, name: string): Buffer {
  const file = join(dir, name)
  writeFileSync(file, jpeg)
  return execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'])
}

const standard = encoded('default')
const stripped = withoutTables(standard)
const optimal = encoded('optimal')

t.test('the fixture: a JPEG with the standard tables, and the same without them', async (t) => {
  t.ok(segments(standard).some(({ marker }) => marker === 0xc4), 'ffmpeg wrote its tables')
  t.notOk(segments(stripped).some(({ marker }) => marker === 0xc4), 'stripped of every DHT segment')
  t.ok(stripped.length < standard.length)
  t.notOk(segments(optimal).filter(({ marker }) => marker === 0xc4).every(({ bytes }) => standard.includes(bytes)), 'optimal tables differ from the standard ones')
})

t.test('a live frame without tables gets the standard ones: every viewer the same bytes, decoded to the original\'s pixels', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port } = await startApp(t, { routes: [{ path: '/live', source: live }] })
  const viewers = [await RawClient.get(port, '/live'), await RawClient.get(port, '/live'), await RawClient.get(port, '/live', { headers: ['Sec-Fetch-Dest: image'] })]
  await Promise.all(viewers.map((viewer) => viewer.opened()))
  live.publish(stripped)
  const bodies = await Promise.all(viewers.map(async (viewer) => (await viewer.parts(1)).multipart.parts[0]?.body as Buffer))
  const [first] = bodies as [Buffer]
  t.ok(bodies.every((body) => body.equals(first)), 'every viewer, in either framing, the same bytes')
  t.ok(segments(first).some(({ marker }) => marker === 0xc4), 'with a DHT segment')
  t.ok(pixels(first, 'received.jpg').equals(pixels(standard, 'standard.jpg')), 'decoded to exactly the pixels of the original')
  for (const viewer of viewers) viewer.destroy()
})

t.test('a JPEG with tables of its own, and a frame of another type, go out byte for byte', async (t) => {
  const live = createLiveSource({ timestamps: false })
  const { port } = await startApp(t, { routes: [{ path: '/live', source: live }] })
  const viewer = await RawClient.get(port, '/live')
  await viewer.opened()
  live.publish(standard)
  live.publish(optimal)
  live.publish({ body: stripped, contentType: 'application/octet-stream' })
  const parts = (await viewer.parts(3)).multipart.parts
  t.ok(parts[0]?.body.equals(standard), 'standard tables: untouched')
  t.ok(parts[1]?.body.equals(optimal), 'optimal tables: untouched')
  t.ok(parts[2]?.body.equals(stripped), 'not image/jpeg: untouched')
  viewer.destroy()
})

t.test('files and pull sources get the tables too; jpegHuffmanTables: false sends the frame as it is', async (t) => {
  const frames = tempDir('huffman-files')
  writeFileSync(join(frames, 'a.jpg'), stripped)
  const { port } = await startApp(t, {
    routes: [
      { path: '/files', source: fromDirectory(frames) },
      { path: '/pull', source: () => stripped },
      { path: '/off', source: () => stripped, jpegHuffmanTables: false }
    ]
  })
  const firstPart = async (path: string): Promise<Buffer> => {
    const client = await RawClient.get(port, path)
    const [part] = (await client.parts(1)).multipart.parts
    client.destroy()
    return part?.body as Buffer
  }
  for (const path of ['/files', '/pull']) {
    t.ok(pixels(await firstPart(path), 'visit.jpg').equals(pixels(standard, 'standard.jpg')), `${path}: decoded to the original's pixels`)
  }
  t.ok((await firstPart('/off')).equals(stripped), 'off: the frame as it came')
})

t.test('what is not a JPEG missing its tables is passed through as the same buffer', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['too short', Buffer.from([0xff, 0xd8])],
    ['not a JPEG', Buffer.from('not a jpeg at all')],
    ['a segment that does not start with a marker', Buffer.from([0xff, 0xd8, 0x00, 0x00, 0x00, 0x00])],
    ['headers that end before any scan', Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x02, 0xff])],
    ['tables of its own', standard]
  ]
  for (const [name, body] of cases) t.equal(withHuffmanTables(body), body, name)
})

t.test('fill bytes before a marker are stepped over', async (t) => {
  const [soi, ...rest] = segments(stripped)
  const padded = Buffer.concat([soi!.bytes, Buffer.from([0xff, 0xff]), ...rest.map(({ bytes }) => bytes)])
  const fixed = withHuffmanTables(padded)
  t.ok(fixed.includes(STANDARD_DHT), 'the tables inserted')
  t.ok(pixels(fixed, 'padded.jpg').equals(pixels(standard, 'standard.jpg')), 'decoded to the original\'s pixels')
  t.equal(withHuffmanTables(padded), fixed, 'worked out once per buffer')
})

t.test('a snapshot of a frame without tables gets them too; jpegHuffmanTables: false sends it as it is', async (t) => {
  const live = createLiveSource({ timestamps: false })
  live.publish(stripped)
  const { port } = await startApp(t, { routes: [{ path: '/live', source: live, snapshot: '/live.jpg' }] })
  const snapshot = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/live.jpg`)).arrayBuffer())
  t.ok(pixels(snapshot, 'snapshot.jpg').equals(pixels(standard, 'standard.jpg')), 'decoded to the original\'s pixels')
  t.ok(snapshot.includes(STANDARD_DHT), 'with the standard tables')
  const still = createSnapshotHandler({ source: live, jpegHuffmanTables: false })
  const server = http.createServer((req, res) => still(req, res)).listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => { await still.close(); server.close() })
  const plain = Buffer.from(await (await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`)).arrayBuffer())
  t.ok(plain.equals(stripped), 'off: the frame as it came')
})

t.test('a snapshot declared in routes[] honours the entry\'s jpegHuffmanTables: false, as the route option does', async (t) => {
  const live = createLiveSource({ timestamps: false })
  live.publish(stripped)
  const { port } = await startApp(t, {
    routes: [{ path: '/cam', source: live, contentType: 'image/jpeg', snapshot: '/cam.jpg', jpegHuffmanTables: false }]
  })
  const snapshot = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/cam.jpg`)).arrayBuffer())
  t.ok(snapshot.equals(stripped), `the frame as it came (${stripped.length} bytes), got ${snapshot.length} bytes`)
})

t.test('a large frame without tables is not kept by the tables\' memo once the app that showed it has closed', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const live = createLiveSource({ timestamps: false })
  const { port, close } = await startApp(t, { routes: [{ path: '/live', source: live }] })
  const watch = async (): Promise<WeakRef<Buffer>> => {
    // 8 MiB after the end of the image: the memo would hold this and its copy with tables, 16 MiB in all.
    const large = Buffer.concat([stripped, Buffer.alloc(8 * 1024 * 1024)])
    const viewer = await RawClient.get(port, '/live')
    await viewer.opened()
    live.publish(large)
    await viewer.parts(1)
    viewer.destroy()
    return new WeakRef(large)
  }
  const large = await watch()
  await close()
  // The source lives on, showing a newer frame that no route encodes any more.
  live.publish('a later frame')
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  t.ok(large.deref() === undefined, 'the frame is collected')
})
