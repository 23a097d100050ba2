// The load generator, in its own process: N raw TCP viewers that parse every part and check each JPEG byte for
// byte against the frames the server was given, plus M viewers that connect and never read. With `sessions`, the
// N viewers are HTTP/2 streams spread evenly over that many connections (h2c), parsed the same way. With `ports`,
// the viewers are spread evenly over several servers (instances behind Redis).
import http2 from 'node:http2'
import net from 'node:net'
import { makeFrames, settings } from './common.mjs'

const { port, ports = [port], readers, stalled, size, count, sessions } = settings()
const frames = makeFrames(size, count)
const CRLF2 = Buffer.from('\r\n\r\n')
const DELIMITER = Buffer.from('\r\n--bench\r\n')
const OPENING = Buffer.from('--bench\r\n')
// HTTP/1.0, so that node:http (the tutorial server) does not use chunked encoding.
const REQUEST = 'GET /live HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'

let counting = false
const result = { parts: 0, corrupt: 0, latenciesUs: [], closed: 0, perViewer: [] }

/**
 * Parses one viewer's bytes: response head (over HTTP/1; an HTTP/2 stream's comes as a HEADERS frame), opening
 * delimiter, then parts by Content-Length.
 */
function viewer (socket, index, state = 'response') {
  let text = Buffer.alloc(0) // bytes of a head, a part's headers or a delimiter, never of a body
  let body
  let filled = 0
  let stamp = 0
  result.perViewer[index] = 0
  const fail = () => {
    result.corrupt++
    socket.destroy()
  }
  const takeText = (chunk, offset, marker, exact) => {
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
    const found = joined.subarray(0, exact ? marker.length : at)
    const used = end - text.length
    text = Buffer.alloc(0)
    return { found, used }
  }
  socket.on('data', (chunk) => {
    let offset = 0
    while (offset < chunk.length && !socket.destroyed) {
      if (state === 'body') {
        const n = Math.min(body.length - filled, chunk.length - offset)
        chunk.copy(body, filled, offset, offset + n)
        filled += n
        offset += n
        if (filled === body.length) state = 'delimiter'
        continue
      }
      const marker = state === 'opening' ? OPENING : state === 'delimiter' ? DELIMITER : CRLF2
      const taken = takeText(chunk, offset, marker, state === 'opening' || state === 'delimiter')
      if (taken === undefined) return
      offset += taken.used
      if (taken.found === undefined) continue
      if (state === 'response') {
        if (!/^HTTP\/1\.[01] 200 /.test(taken.found.toString('latin1'))) return fail()
        state = 'opening'
      } else if (state === 'opening') {
        if (!taken.found.equals(OPENING)) return fail()
        state = 'headers'
      } else if (state === 'headers') {
        const headers = taken.found.toString('latin1')
        const length = Number(/Content-Length: (\d+)/i.exec(headers)?.[1])
        stamp = Number(/X-Timestamp: ([\d.]+)/i.exec(headers)?.[1] ?? 0)
        if (!(length > 0)) return fail()
        body = Buffer.allocUnsafe(length)
        filled = 0
        state = 'body'
      } else {
        if (!taken.found.equals(DELIMITER)) return fail()
        const expected = frames[body.readUInt32BE(2) % count]
        if (!body.equals(expected)) return fail()
        if (counting) {
          result.parts++
          result.perViewer[index]++
          if (stamp > 0) result.latenciesUs.push((performance.timeOrigin + performance.now()) * 1000 - stamp * 1e6)
        }
        state = 'headers'
      }
    }
  })
  socket.on('close', () => { if (counting) result.closed++ })
  socket.on('error', () => {})
}

const sockets = []
function open (read, index) {
  const socket = net.connect(ports[index % ports.length], '127.0.0.1', () => socket.write(REQUEST))
  sockets.push(socket)
  if (read) viewer(socket, index)
  else socket.pause()
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
      viewer(stream, i, 'opening')
    }
  }
}
if (sessions > 0) {
  openHttp2()
} else {
  for (let i = 0; i < readers; i++) open(true, i)
  for (let i = 0; i < stalled; i++) open(false, i)
}

process.on('message', (message) => {
  if (message === 'start') {
    counting = true
  } else if (message === 'stop') {
    counting = false
    const sorted = result.latenciesUs.sort((a, b) => a - b)
    const at = (q) => sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000
    const summary = {
      parts: result.parts,
      corrupt: result.corrupt,
      closed: result.closed,
      minPerViewer: Math.min(...result.perViewer),
      p50Ms: at(0.5),
      p99Ms: at(0.99)
    }
    for (const socket of sockets) socket.destroy()
    process.send(summary, () => process.exit(0))
  }
})
process.send('ready')
