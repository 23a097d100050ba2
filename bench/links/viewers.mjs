// The slow-link cases' viewers: each reads its stream as a camera client does and hands every whole part's
// headers to `onPart` the moment it is read. Over HTTP/1.1 a raw socket per viewer; over HTTP/2 one session
// carrying a camera wall's streams, with Chromium's flow-control windows (6 MiB a stream, 15 MiB the session), so
// that what the server holds back is the server's choice and not the client's window. The parts are read by the
// plugin's own reader (this checkout's build), whichever server is measured.
import { once } from 'node:events'
import http2 from 'node:http2'
import net from 'node:net'
import { boundaryOf, MultipartParser } from 'fastify-server-push'
import { setReceiveBuffer } from './link.mjs'

const STREAM_WINDOW = 6 * 1024 * 1024
const SESSION_WINDOW = 15 * 1024 * 1024

/** A parser of the stream whose Content-Type is `contentType`, calling `onPart(headers)` for each whole part. */
function partReader (contentType, onPart) {
  const boundary = boundaryOf(contentType ?? '')
  if (boundary === undefined) throw new Error(`not a multipart stream: ${contentType}`)
  const parser = new MultipartParser(boundary)
  return (chunk) => {
    for (const part of parser.push(chunk)) onPart(part.headers)
  }
}

/**
 * One viewer over HTTP/1.1 reading `path`; resolves once its response head is in. `pause()` stops reading
 * (a stalled viewer), `resume()` reads again. `receiveBuffer`: its socket's receive buffer in bytes, fixed.
 */
export async function http1Viewer (port, path, onPart, receiveBuffer) {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  if (receiveBuffer !== undefined) setReceiveBuffer(socket, receiveBuffer)
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
  let head = Buffer.alloc(0)
  await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      const type = /^content-type: *(.*)$/im.exec(head.subarray(0, end).toString('latin1'))?.[1]
      try {
        const read = partReader(type, onPart)
        socket.on('data', read)
        read(head.subarray(end + 4))
        resolve()
      } catch (error) {
        reject(error)
      }
    }
    socket.on('data', onData)
    socket.once('close', () => reject(new Error(`closed before the response head: ${head.toString('latin1')}`)))
  })
  return {
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => socket.destroy()
  }
}

/**
 * One HTTP/2 session reading each of `paths` on a stream of its own, asking, as browsers ask for images, for its
 * responses to be interleaved (RFC 9218's `i`); `onPart(index, headers)` for each whole part of stream `index`.
 * Resolves once every response head is in.
 */
export async function http2Wall (port, paths, onPart) {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: STREAM_WINDOW } })
  session.on('error', () => {})
  await once(session, 'connect')
  session.setLocalWindowSize(SESSION_WINDOW)
  await Promise.all(paths.map(async (path, index) => {
    const stream = session.request({ ':path': path, priority: 'u=3, i' })
    stream.on('error', () => {})
    const [headers] = await once(stream, 'response')
    stream.on('data', partReader(headers['content-type'], (part) => onPart(index, part)))
  }))
  return { close: () => session.destroy() }
}
