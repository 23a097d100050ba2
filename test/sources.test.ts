// File sources: read once at registration, cycled forever, every client from the first frame.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { fromDirectory, fromFiles } from '../lib/index.js'
import { startApp } from './helpers/app.js'
import { RawClient } from './helpers/wire-client.js'

const framesDir = new URL('../example-app/frames/', import.meta.url)
const thumb = (n: number): Buffer => readFileSync(new URL(`thumb_${n}.jpg`, framesDir))

t.test('fromDirectory cycles the files in natural order, each client from the first', async (t) => {
  const { port } = await startApp(t, { routes: [{ path: '/video.mjpg', source: fromDirectory(framesDir.pathname) }] })
  const clients = await Promise.all([RawClient.get(port, '/video.mjpg'), RawClient.get(port, '/video.mjpg')])
  for (const client of clients) {
    const res = await client.parts(12)
    const parts = res.multipart.parts.slice(0, 12)
    t.ok(parts.every((part, i) => part.body.equals(thumb((i % 10) + 1))), 'thumb_1 .. thumb_10, then thumb_1 again')
    t.ok(parts.every((part) => part.headers['content-type'] === 'image/jpeg'))
    client.destroy()
  }
})

t.test('fromFiles keeps the given order; the extension gives the type, else the route default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'push-files-'))
  writeFileSync(join(dir, 'page.html'), '<p>hi</p>')
  writeFileSync(join(dir, 'dot.PNG'), 'png-bytes')
  writeFileSync(join(dir, 'raw.bin'), 'raw-bytes')
  const { port } = await startApp(t, {
    routes: [{
      path: '/mixed',
      contentType: 'application/octet-stream',
      source: fromFiles([join(dir, 'raw.bin'), join(dir, 'page.html'), join(dir, 'dot.PNG')])
    }]
  })
  const client = await RawClient.get(port, '/mixed')
  const res = await client.parts(4)
  t.same(res.multipart.parts.slice(0, 4).map((p) => [p.headers['content-type'], p.body.toString()]), [
    ['application/octet-stream', 'raw-bytes'],
    ['text/html', '<p>hi</p>'],
    ['image/png', 'png-bytes'],
    ['application/octet-stream', 'raw-bytes']
  ])
  client.destroy()
})

t.test('fromDirectory leaves out dot files, sub-directories and unknown extensions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'push-dir-'))
  writeFileSync(join(dir, '10.jpg'), 'ten')
  writeFileSync(join(dir, '2.jpg'), 'two')
  writeFileSync(join(dir, '.hidden.jpg'), 'hidden')
  writeFileSync(join(dir, 'README.md'), 'readme')
  mkdirSync(join(dir, 'sub.jpg'))
  const { port } = await startApp(t, { routes: [{ path: '/d', source: fromDirectory(dir) }] })
  const client = await RawClient.get(port, '/d')
  const res = await client.parts(3)
  t.same(res.multipart.parts.slice(0, 3).map((p) => p.body.toString()), ['two', 'ten', 'two'])
  client.destroy()
})

t.test('files are read once, at registration: later changes on disk do not reach the stream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'push-once-'))
  writeFileSync(join(dir, 'a.txt'), 'original')
  const { port } = await startApp(t, { routes: [{ path: '/once', source: fromFiles([join(dir, 'a.txt')]) }] })
  writeFileSync(join(dir, 'a.txt'), 'changed')
  unlinkSync(join(dir, 'a.txt'))
  const client = await RawClient.get(port, '/once')
  const res = await client.parts(2)
  t.same(res.multipart.parts.slice(0, 2).map((p) => p.body.toString()), ['original', 'original'])
  client.destroy()
})

t.test('fromDirectory follows links to files and never opens a FIFO', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'push-links-'))
  const elsewhere = mkdtempSync(join(tmpdir(), 'push-target-'))
  writeFileSync(join(elsewhere, 'target.jpg'), 'linked')
  symlinkSync(join(elsewhere, 'target.jpg'), join(dir, '1.jpg'))
  symlinkSync(elsewhere, join(dir, '2.jpg'))
  execFileSync('mkfifo', [join(dir, '3.jpg')])
  const { port } = await startApp(t, { routes: [{ path: '/links', source: fromDirectory(dir) }] })
  const client = await RawClient.get(port, '/links')
  const res = await client.parts(2)
  t.same(res.multipart.parts.slice(0, 2).map((p) => p.body.toString()), ['linked', 'linked'])
  client.destroy()
})
