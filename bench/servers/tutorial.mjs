// The common tutorial pattern: node:http, three res.write() per frame, return values ignored.
import http from 'node:http'
import { capture, every, makeFrames, serve, settings, timestamp } from '../common.mjs'

const { fps, size, count } = settings()
const frames = makeFrames(size, count)
const clients = new Set()
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace;boundary=bench', Connection: 'close' })
  res.write('--bench\r\n')
  clients.add(res)
  req.on('close', () => clients.delete(res))
})
const produce = () => every(fps, (n) => {
  const body = capture(frames, n)
  for (const res of clients) {
    res.write(`Content-Type: image/jpeg\r\nContent-Length: ${body.length}\r\nX-Timestamp: ${timestamp()}\r\n\r\n`)
    res.write(body)
    res.write('\r\n--bench\r\n')
  }
})
server.listen(0, '127.0.0.1', () => serve(server.address().port, produce))
