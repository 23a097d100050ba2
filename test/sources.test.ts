// File sources: read once at registration, cycled forever, every client from the first frame.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { fromDirectory, fromFiles, type PushRouteOptions } from '../lib/index.js'
import { startApp, tempDir } from './helpers/app.js'
import { bodies, RawClient, type ParsedPart } from './helpers/wire-client.js'

const framesDir = new URL('../example-app/frames/', import.meta.url)
const thumb = (n: number): Buffer => readFileSync(new URL(`thumb_${n}.jpg`, framesDir))

/** A fresh directory holding `files` (name to content). */
function directory (files: Record<string, string>): string {
  const dir = tempDir('files')
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  return dir
}

/** The first `count` parts one client of `route` receives. */
async function firstParts (t: Test, route: Omit<PushRouteOptions, 'path'>, count: number): Promise<ParsedPart[]> {
  const { port } = await startApp(t, { routes: [{ path: '/files', ...route }] })
  const client = await RawClient.get(port, '/files')
  const res = await client.parts(count)
  client.destroy()
  return res.multipart.parts.slice(0, count)
}

t.test('fromDirectory cycles the files in natural order, each client from the first', async (t) => {
  const { port } = await startApp(t, { routes: [{ path: '/video.mjpg', source: fromDirectory(framesDir.pathname) }] })
  const clients = await Promise.all([RawClient.get(port, '/video.mjpg'), RawClient.get(port, '/video.mjpg')])
  for (const client of clients) {
    const parts = (await client.parts(12)).multipart.parts.slice(0, 12)
    t.ok(parts.every((part, i) => part.body.equals(thumb((i % 10) + 1))), 'thumb_1 .. thumb_10, then thumb_1 again')
    t.ok(parts.every((part) => part.headers['content-type'] === 'image/jpeg'))
    client.destroy()
  }
})

t.test('fromFiles keeps the given order; the extension gives the type, else the route default', async (t) => {
  const dir = directory({ 'page.html': '<p>hi</p>', 'dot.PNG': 'png-bytes', 'raw.bin': 'raw-bytes' })
  const source = fromFiles([join(dir, 'raw.bin'), join(dir, 'page.html'), join(dir, 'dot.PNG')])
  const parts = await firstParts(t, { source, contentType: 'application/octet-stream' }, 4)
  t.same(parts.map((p) => [p.headers['content-type'], p.body.toString()]), [
    ['application/octet-stream', 'raw-bytes'],
    ['text/html', '<p>hi</p>'],
    ['image/png', 'png-bytes'],
    ['application/octet-stream', 'raw-bytes']
  ])
})

t.test('fromDirectory leaves out dot files, sub-directories and unknown extensions', async (t) => {
  const dir = directory({ '10.jpg': 'ten', '2.jpg': 'two', '.hidden.jpg': 'hidden', 'README.md': 'readme' })
  mkdirSync(join(dir, 'sub.jpg'))
  t.same(bodies(await firstParts(t, { source: fromDirectory(dir) }, 3)), ['two', 'ten', 'two'])
})

t.test('fromDirectory follows links to files and never opens a FIFO', async (t) => {
  const dir = directory({ 'a.txt': 'inside' })
  const elsewhere = directory({ 'target.jpg': 'linked' })
  symlinkSync(join(dir, 'a.txt'), join(dir, '0.txt'))
  symlinkSync(join(elsewhere, 'target.jpg'), join(dir, '1.jpg'))
  symlinkSync(elsewhere, join(dir, '2.jpg'))
  execFileSync('mkfifo', [join(dir, '3.jpg')])
  const source = fromDirectory(dir, { followLinksOutside: true })
  t.same(bodies(await firstParts(t, { source }, 3)), ['inside', 'linked', 'inside'])
})

t.test('fromDirectory serves links that stay inside it, even into a sub-directory named like a way out', async (t) => {
  const dir = directory({ '1.txt': 'own' })
  mkdirSync(join(dir, '..frames'))
  writeFileSync(join(dir, '..frames', 'f.txt'), 'from a sub-directory')
  symlinkSync('1.txt', join(dir, '2.txt'))
  symlinkSync(join(dir, '..frames', 'f.txt'), join(dir, '3.txt'))
  t.same(bodies(await firstParts(t, { source: fromDirectory(dir) }, 3)), ['own', 'own', 'from a sub-directory'])
})

t.test('files are read once, at registration: later changes on disk do not reach the stream', async (t) => {
  const dir = directory({ 'a.txt': 'original' })
  const { port } = await startApp(t, { routes: [{ path: '/once', source: fromFiles([join(dir, 'a.txt')]) }] })
  writeFileSync(join(dir, 'a.txt'), 'changed')
  unlinkSync(join(dir, 'a.txt'))
  const client = await RawClient.get(port, '/once')
  t.same(bodies((await client.parts(2)).multipart.parts.slice(0, 2)), ['original', 'original'])
  client.destroy()
})
