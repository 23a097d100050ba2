// Reader throughput: the plugin's readMultipart() against mjpeg-consumer on the same camera stream (50 KB
// parts with Content-Length), cut into the same random chunks; prints a table. Run with `npm run bench`, or
// alone with `node bench/reader.mjs` after `npm run build`.
import { Readable } from 'node:stream'
import MjpegConsumer from 'mjpeg-consumer'
import { readMultipart } from 'fastify-server-push'
import { makeFrames } from './common.mjs'

const PARTS = 2000
const SIZE = 50_000
const ROUNDS = Number(process.env.ROUNDS ?? 5)

const frames = makeFrames(SIZE, 30)
const sent = Array.from({ length: PARTS }, (_, n) => frames[n % frames.length])
const input = Buffer.concat(sent.flatMap((frame) => [
  Buffer.from(`--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.length}\r\n\r\n`), frame, Buffer.from('\r\n')
]))

// The same chunking for both: sizes drawn from 1 to 64 KiB by a seeded generator, as views on one buffer.
let seed = 42
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}
const chunks = []
for (let at = 0; at < input.length;) {
  const size = 1 + Math.floor(random() * 65536)
  chunks.push(input.subarray(at, at + size))
  at += size
}

const readers = {
  'readMultipart (this plugin)': async () => {
    const got = []
    for await (const part of readMultipart(Readable.from(chunks, { objectMode: true }), 'myboundary')) got.push(part.body)
    return got
  },
  'mjpeg-consumer 2.0.0': () => new Promise((resolve, reject) => {
    const got = []
    const consumer = new MjpegConsumer()
    consumer.on('data', (frame) => got.push(frame))
    consumer.on('end', () => resolve(got))
    consumer.on('error', reject)
    Readable.from(chunks, { objectMode: true }).pipe(consumer)
  })
}

const results = {}
for (const [name, read] of Object.entries(readers)) {
  const times = []
  // One round first for the JIT, not counted.
  let got = await read()
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    got = await read()
    times.push(Number(process.hrtime.bigint() - start) / 1e9)
  }
  times.sort((a, b) => a - b)
  const seconds = times[Math.floor(times.length / 2)]
  const right = got.filter((frame, i) => sent[i] !== undefined && frame.equals(sent[i])).length
  results[name] = { mbps: input.length / 1e6 / seconds, right, count: got.length }
}

const ours = results['readMultipart (this plugin)']
console.log(`\nReader throughput: ${PARTS} parts of ${SIZE / 1000} KB (${(input.length / 1e6).toFixed(0)} MB) in ${chunks.length} random chunks of 1 B to 64 KiB, median of ${ROUNDS} rounds\n`)
console.log('| reader | MB/s | vs mjpeg-consumer | frames read | frames byte-exact |')
console.log('| --- | --- | --- | --- | --- |')
for (const [name, r] of Object.entries(results)) {
  const ratio = r.mbps / results['mjpeg-consumer 2.0.0'].mbps
  console.log(`| ${name} | ${r.mbps.toFixed(0)} | ${ratio.toFixed(2)}x | ${r.count} of ${PARTS} | ${r.right} |`)
}
if (ours.right !== PARTS) {
  console.error('readMultipart did not read every part exactly')
  process.exitCode = 1
}
