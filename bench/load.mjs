// The load generator, in its own process: N raw TCP viewers that parse every part and check each JPEG byte for
// byte against the frames the server was given, plus M viewers that connect and never read. With `sessions`, the
// N viewers are HTTP/2 streams spread evenly over that many connections (h2c), parsed the same way. With `ports`,
// the viewers are spread evenly over several servers (instances behind Redis). With `verify: 'sample'`, a body is
// skipped instead of copied and compared: see sampled() below.
import http2 from 'node:http2'
import net from 'node:net'
import { makeFrames, settings } from './common.mjs'

const { port, ports = [port], readers, stalled, size, count, sessions, verify = 'full' } = settings()
const frames = makeFrames(size, count)
const CRLF2 = Buffer.from('\r\n\r\n')
const DELIMITER = Buffer.from('\r\n--bench\r\n')
const OPENING = Buffer.from('--bench\r\n')
const EMPTY = Buffer.alloc(0)
const DELIMITER_TEXT = DELIMITER.toString('latin1')
const OPENING_TEXT = OPENING.toString('latin1')
// HTTP/1.0, so that node:http (the tutorial server) does not use chunked encoding.
const REQUEST = 'GET /live HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'
// Viewers connect this many at a time, each batch once the last one has its response heads: thousands of
// connects at once would overflow the server's listen backlog (511 in Node), and the dropped ones would come
// back only after the kernel's retries, a second and more later. Not fewer: a server already saturated by the
// viewers before takes seconds to answer a batch, however small (25 batches of 100 took over a minute).
const BATCH = 400
// Sampling, the viewers' bytes are read into this one buffer (net's `onread`) rather than into a new one per
// read: nothing is kept of it past the callback, and a larger read drains more of a socket at once.
const READ_BUFFER = Buffer.allocUnsafe(1 << 20)

let counting = false
const result = { parts: 0, corrupt: 0, latenciesUs: [], closed: 0, perViewer: [] }
let cpu
// How far behind this process is: the longest its event loop went without a turn in the window. Behind, it reads
// each socket's backlog a turn at a time, and handles 'start' and 'stop' as late (both in one turn: 0 parts).
let lastTurn = performance.now()
let longestGap = 0
setInterval(() => {
  const now = performance.now()
  longestGap = Math.max(longestGap, now - lastTurn)
  lastTurn = now
}, 10).unref()

/**
 * Where a sampled body's checked bytes go as they pass: its first 8 (SOI, the frame number, the frame's fill) and
 * last 8 (fill, EOI). At 2500 viewers × 30 fps × 50 KB (3.75 GB/s) the full check would fill the load generator's
 * core, and the figure would be its limit, not the server's; this one still catches a body cut short, run long, or
 * spliced from two frames at either end (the fill differs between frames, SOI and EOI do not), and the delimiter
 * after it is checked as ever.
 */
function sampled () {
  const SAMPLED = 8
  const sample = Buffer.alloc(2 * SAMPLED)
  // Byte by byte: for 16 bytes a part, cheaper than calls into Buffer's native copy and compare.
  return {
    /** Takes body bytes [filled, filled + n) of a body of `length` from `chunk` at `offset`. */
    take (chunk, offset, filled, n, length) {
      for (let i = filled; i < SAMPLED && i < filled + n; i++) sample[i] = chunk[offset + i - filled]
      for (let i = Math.max(filled, length - SAMPLED); i < filled + n; i++) sample[i - length + 2 * SAMPLED] = chunk[offset + i - filled]
    },
    /** Whether the body of `length` just taken is the frame whose number it carries, by length and samples. */
    matches (length) {
      const expected = frames[sample.readUInt32BE(2) % count]
      if (length !== expected.length) return false
      for (let i = 0; i < SAMPLED; i++) {
        if (sample[i] !== expected[i] || sample[SAMPLED + i] !== expected[length - SAMPLED + i]) return false
      }
      return true
    }
  }
}

/**
 * Parses one viewer's bytes: response head (over HTTP/1; an HTTP/2 stream's comes as a HEADERS frame), opening
 * delimiter, then parts by Content-Length. Returns the function to hand its bytes to; calls `onHead` once the
 * response head has come (or the viewer failed before).
 */
function viewer (socket, index, state = 'response', onHead = () => {}) {
  let text = EMPTY // bytes of a head, a part's headers or a delimiter cut by a chunk's end, never of a body
  let body
  let length = 0
  let filled = 0
  let stamp = 0
  const sample = verify === 'sample' ? sampled() : undefined
  result.perViewer[index] = 0
  const fail = () => {
    result.corrupt++
    socket.destroy()
    onHead()
  }
  /** The text up to `marker` (or the `marker.length` bytes, `exact`), as a latin1 string; and the bytes used. */
  const takeText = (chunk, offset, marker, exact) => {
    if (text.length === 0) {
      // Most often it is all in this chunk: read in place, no buffer made for it (thousands of parts a second).
      const at = exact ? (chunk.length - offset >= marker.length ? offset : -1) : chunk.indexOf(marker, offset)
      const used = at + marker.length - offset
      if (at !== -1 && used <= 8192) return { found: chunk.toString('latin1', offset, exact ? offset + marker.length : at), used }
    }
    // Only small pieces are ever copied here: at most 8 KiB of a chunk, however large the chunk.
    const piece = chunk.subarray(offset, offset + 8192)
    const joined = text.length === 0 ? piece : Buffer.concat([text, piece])
    const at = exact ? (joined.length >= marker.length ? 0 : -1) : joined.indexOf(marker)
    if (at === -1) {
      if (joined.length > 8192) return fail()
      text = Buffer.from(joined)
      return { used: piece.length }
    }
    const end = at + marker.length
    const found = joined.toString('latin1', 0, exact ? marker.length : at)
    const used = end - text.length
    text = EMPTY
    return { found, used }
  }
  return (chunk) => {
    let offset = 0
    while (offset < chunk.length && !socket.destroyed) {
      if (state === 'body') {
        const n = Math.min(length - filled, chunk.length - offset)
        if (sample === undefined) chunk.copy(body, filled, offset, offset + n)
        else sample.take(chunk, offset, filled, n, length)
        filled += n
        offset += n
        if (filled === length) state = 'delimiter'
        continue
      }
      const marker = state === 'opening' ? OPENING : state === 'delimiter' ? DELIMITER : CRLF2
      const taken = takeText(chunk, offset, marker, state === 'opening' || state === 'delimiter')
      if (taken === undefined) return
      offset += taken.used
      if (taken.found === undefined) continue
      if (state === 'response') {
        if (!/^HTTP\/1\.[01] 200 /.test(taken.found)) return fail()
        state = 'opening'
        onHead()
      } else if (state === 'opening') {
        if (taken.found !== OPENING_TEXT) return fail()
        state = 'headers'
      } else if (state === 'headers') {
        const headers = taken.found
        length = Number(/Content-Length: (\d+)/i.exec(headers)?.[1])
        stamp = Number(/X-Timestamp: ([\d.]+)/i.exec(headers)?.[1] ?? 0)
        if (!(length > 0)) return fail()
        if (sample === undefined) body = Buffer.allocUnsafe(length)
        filled = 0
        state = 'body'
      } else {
        if (taken.found !== DELIMITER_TEXT) return fail()
        if (sample === undefined ? !body.equals(frames[body.readUInt32BE(2) % count]) : !sample.matches(length)) return fail()
        if (counting) {
          result.parts++
          result.perViewer[index]++
          if (stamp > 0) result.latenciesUs.push((performance.timeOrigin + performance.now()) * 1000 - stamp * 1e6)
        }
        state = 'headers'
      }
    }
  }
}

const sockets = []
/** Opens one viewer; resolves once it has its response head (a stalled one: once connected), or is gone. */
function open (read, index) {
  return new Promise((resolve) => {
    let parse
    // Sampling, the bytes come through `onread` into the shared buffer; else as 'data' events, as ever.
    const onread = read && verify === 'sample' ? { buffer: READ_BUFFER, callback: (n, buffer) => { parse(buffer.subarray(0, n)) } } : undefined
    const socket = net.connect({ port: ports[index % ports.length], host: '127.0.0.1', onread }, () => {
      socket.write(REQUEST)
      if (!read) resolve()
    })
    sockets.push(socket)
    if (read) {
      parse = viewer(socket, index, 'response', resolve)
      if (onread === undefined) socket.on('data', parse)
    } else {
      socket.pause()
    }
    socket.on('close', () => {
      if (counting) result.closed++
      resolve()
    })
    socket.on('error', () => {})
  })
}
// Windows as Chromium sets them (6 MB a stream, 15 MB a connection), not Node's 64 KB, which would bound the
// throughput of a connection by its round trips.
function openHttp2 () {
  for (let s = 0; s < sessions; s++) {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 6 * 2 ** 20 } })
    session.on('connect', () => session.setLocalWindowSize(15 * 2 ** 20))
    session.on('error', () => {})
    sockets.push(session)
    for (let i = s; i < readers; i += sessions) {
      const stream = session.request({ ':path': '/live' })
      stream.on('response', (headers) => { if (headers[':status'] !== 200) result.corrupt++ })
      stream.on('data', viewer(stream, i, 'opening'))
      stream.on('close', () => { if (counting) result.closed++ })
      stream.on('error', () => {})
    }
  }
}
if (sessions > 0) {
  openHttp2()
} else {
  const viewers = [...Array.from({ length: readers }, (_, i) => [true, i]), ...Array.from({ length: stalled }, (_, i) => [false, i])]
  for (let i = 0; i < viewers.length; i += BATCH) await Promise.all(viewers.slice(i, i + BATCH).map(([read, index]) => open(read, index)))
}

process.on('message', (message) => {
  if (message === 'start') {
    counting = true
    cpu = process.cpuUsage()
    longestGap = 0
  } else if (message === 'stop') {
    counting = false
    const used = process.cpuUsage(cpu)
    const sorted = result.latenciesUs.sort((a, b) => a - b)
    const at = (q) => sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000
    const summary = {
      parts: result.parts,
      corrupt: result.corrupt,
      closed: result.closed,
      minPerViewer: Math.min(...result.perViewer),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      // The load generator's own CPU over the window: near a whole core, it, not the server, may be the limit.
      cpuMs: (used.user + used.system) / 1000,
      stallMs: Math.max(longestGap, performance.now() - lastTurn)
    }
    for (const socket of sockets) socket.destroy()
    process.send(summary, () => process.exit(0))
  }
})
process.send('ready')
