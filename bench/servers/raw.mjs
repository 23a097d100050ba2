// The practical ceiling for Node: node:net, prebuilt bytes per frame, one corked write per client, busy
// clients skip the frame.
import net from 'node:net'
import { capture, every, makeFrames, serve, settings, timestamp } from '../common.mjs'

const { fps, size, count } = settings()
const frames = makeFrames(size, count)
const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=bench\r\nConnection: close\r\n\r\n--bench\r\n')
const delimiter = Buffer.from('\r\n--bench\r\n')
const clients = new Set()
const server = net.createServer((socket) => {
  socket.setNoDelay(true) // as node:http (the other two servers) does
  socket.once('data', () => {
    socket.write(head)
    clients.add(socket)
  })
  socket.on('close', () => clients.delete(socket))
  socket.on('error', () => {})
})
const produce = () => every(fps, (n) => {
  const body = capture(frames, n)
  const partHead = Buffer.from(`Content-Type: image/jpeg\r\nContent-Length: ${body.length}\r\nX-Timestamp: ${timestamp()}\r\n\r\n`)
  for (const socket of clients) {
    if (socket.writableNeedDrain) continue
    socket.cork()
    socket.write(partHead)
    socket.write(body)
    socket.write(delimiter)
    socket.uncork()
  }
})
server.listen(0, '127.0.0.1', () => serve(server.address().port, produce))
