// ffmpeg, an independent MJPEG client, decodes the stream; the decoded frames are the files, in order.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { fromDirectory } from '../lib/index.js'
import { startApp, tempDir } from './helpers/app.js'
import { run } from './helpers/child.js'

const frames = new URL('../example-app/frames/', import.meta.url).pathname

t.test('ffmpeg -i http://…/video.mjpg -frames:v 5 decodes the first five thumbnails', async (t) => {
  const { port } = await startApp(t, { routes: [{ path: '/video.mjpg', source: fromDirectory(frames), intervalMs: 50 }] })
  const out = tempDir('ffmpeg')
  const streamed = await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', `http://127.0.0.1:${port}/video.mjpg`,
    '-frames:v', '5', join(out, 'stream%d.png')])
  t.equal(streamed.code, 0, streamed.stderr)
  t.equal(readdirSync(out).length, 5)
  for (let i = 1; i <= 5; i++) {
    const direct = await run('ffmpeg', ['-nostdin', '-loglevel', 'error', '-i', join(frames, `thumb_${i}.jpg`), join(out, `direct${i}.png`)])
    t.equal(direct.code, 0, direct.stderr)
    t.ok(readFileSync(join(out, `stream${i}.png`)).equals(readFileSync(join(out, `direct${i}.png`))), `frame ${i} decodes to thumb_${i}.jpg`)
  }
})
