// Reader throughput: the plugin's readMultipart() against mjpeg-consumer on the same camera streams (50 KB
// parts), cut into the same random chunks; prints a table. Run with `npm run bench`, or alone with
// `node bench/reader.mjs` after `npm run build`.
import { Readable } from 'node:stream'
import MjpegConsumer from 'mjpeg-consumer'
import { readMultipart } from 'fastify-server-push'
import { makeFrames } from './common.mjs'

const SIZE = 50_000
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const frames = makeFrames(SIZE, 30)

// The first case is the figure that counts: what a camera sends (Content-Length on every part), in chunks of
// any size. The others show the reader stays linear in single-digit chunks and when it must scan for delimiters.
const CASES = [
  { name: 'Content-Length, chunks of 1 B to 64 KiB', parts: 2000, lengths: true, maxChunk: 65536 },
  { name: 'Content-Length, chunks of 1 to 64 B', parts: 200, lengths: true, maxChunk: 64 },
  { name: 'no Content-Length, chunks of 1 B to 64 KiB', parts: 2000, lengths: false, maxChunk: 65536 }
]

function stream ({ parts, lengths, maxChunk }) {
  const sent = Array.from({ length: parts }, (_, n) => frames[n % frames.length])
  const input = Buffer.concat(sent.flatMap((frame) => [
    Buffer.from(`--myboundary\r\nContent-Type: image/jpeg\r\n${lengths ? `Content-Length: ${frame.length}\r\n` : ''}\r\n`), frame, Buffer.from('\r\n')
  ]).concat(Buffer.from('--myboundary--\r\n')))
  // The same chunking for both readers: sizes from a seeded generator, as views on one buffer.
  let seed = 42
  const chunks = []
  for (let at = 0; at < input.length;) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    const size = 1 + Math.floor(seed / 2147483648 * maxChunk)
    chunks.push(input.subarray(at, at + size))
    at += size
  }
  return { sent, input, chunks }
}

const readers = {
  'readMultipart (this plugin)': async (chunks) => {
    const got = []
    for await (const part of readMultipart(Readable.from(chunks, { objectMode: true }), 'myboundary')) got.push(part.body)
    return got
  },
  'mjpeg-consumer 2.0.0': (chunks) => new Promise((resolve, reject) => {
    const got = []
    const consumer = new MjpegConsumer()
    consumer.on('data', (frame) => got.push(frame))
    consumer.on('end', () => resolve(got))
    consumer.on('error', reject)
    Readable.from(chunks, { objectMode: true }).pipe(consumer)
  })
}

console.log(`\nReader throughput on 50 KB parts, median of ${ROUNDS} rounds\n`)
console.log('| input | reader | MB/s | vs mjpeg-consumer | frames read | frames byte-exact |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const input of CASES) {
  const { sent, input: bytes, chunks } = stream(input)
  const results = {}
  for (const [name, read] of Object.entries(readers)) {
    // One round first for the JIT, not counted.
    let got = await read(chunks)
    const times = []
    for (let round = 0; round < ROUNDS; round++) {
      const start = process.hrtime.bigint()
      got = await read(chunks)
      times.push(Number(process.hrtime.bigint() - start) / 1e9)
    }
    times.sort((a, b) => a - b)
    const right = got.filter((frame, i) => sent[i] !== undefined && frame.equals(sent[i])).length
    results[name] = { mbps: bytes.length / 1e6 / times[Math.floor(times.length / 2)], right, count: got.length }
  }
  for (const [name, r] of Object.entries(results)) {
    const ratio = r.mbps / results['mjpeg-consumer 2.0.0'].mbps
    console.log(`| ${input.name} (${(bytes.length / 1e6).toFixed(0)} MB) | ${name} | ${r.mbps.toFixed(0)} | ${ratio.toFixed(2)}x | ${r.count} of ${input.parts} | ${r.right} |`)
  }
  if (results['readMultipart (this plugin)'].right !== input.parts) {
    console.error(`readMultipart did not read every part exactly: ${input.name}`)
    process.exitCode = 1
  }
}
