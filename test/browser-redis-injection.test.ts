// Script injection through Redis, in real browsers: whoever can PUBLISH on the channel sends a text/html "frame"
// with a script, and a Set-Cookie header. Opened at the snapshot URL and at the stream URL, the app's origin must
// show the camera's image, run no script, and store no cookie.
import { createClient } from '@redis/client'
import t from 'tap'
import { noop } from '../lib/core/async.js'
import { createLiveSource } from '../lib/index.js'
import { publishToRedis, redisSource } from '../lib/redis.js'
import { eventually, startApp } from './helpers/app.js'
import { browsers, colours, type BrowserPage } from './helpers/browsers.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { startRedis } from './helpers/redis.js'
import { RawClient } from './helpers/wire-client.js'

interface PageState { title: string, cookie: string, contentType: string, images: number }

interface DocumentLike { title: string, cookie: string, contentType: string, images: { length: number } }

/**
 * What the page shows now, or the document of its `<iframe>` when `inFrame`; an empty state while a navigation
 * replaces the document.
 */
async function stateOf (page: BrowserPage, inFrame: boolean): Promise<PageState> {
  try {
    return await page.evaluate((inFrame) => {
      const top = (globalThis as unknown as { document: DocumentLike & { querySelector (selector: string): { contentDocument: DocumentLike | null } | null } }).document
      const document = inFrame ? top.querySelector('iframe')?.contentDocument : top
      if (document === null || document === undefined) throw new Error('no document yet')
      return { title: document.title, cookie: document.cookie, contentType: document.contentType, images: document.images.length }
    }, inFrame)
  } catch {
    return { title: '', cookie: '', contentType: '', images: 0 }
  }
}

/** Polls until the page's frame shows an image or the forged page ran: either settles what the test asserts. */
async function settled (page: BrowserPage): Promise<PageState> {
  const deadline = Date.now() + PATIENCE_MS
  for (;;) {
    const state = await stateOf(page, true)
    if (state.images > 0 || state.title === 'pwned' || Date.now() > deadline) return state
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A message as publishToRedis() writes it (see lib/redis/message.ts), forged: any type, any headers. */
function forged (seq: number, lines: string[], body: string): Buffer {
  const head = Buffer.from(['forger', ...lines].join('\r\n'))
  const fixed = Buffer.alloc(12)
  fixed.write('SPF1')
  fixed.writeUInt32BE(seq, 4)
  fixed.writeUInt32BE(head.length, 8)
  return Buffer.concat([fixed, head, Buffer.from(body)])
}

const SCRIPT = '<!doctype html><title>forged</title><script>document.cookie = "script=ran; path=/"; document.title = "pwned"</script>'

for (const browser of browsers.filter(({ name }) => name !== 'webkit')) {
  t.test(`${browser.name}: a forged text/html message with a script and a Set-Cookie runs nowhere and sets nothing`, async (t) => {
    const redis = await startRedis(t)
    const live = createLiveSource({ timestamps: false })
    const handle = publishToRedis(live, { url: redis.url, channel: 'cam', demandCheckMs: 100, producerTtlMs: 1000, log: { debug: noop, info: noop, warn: noop, error: noop } })
    t.teardown(() => handle.close())
    // One frame, then only the forged messages: a camera that quiet would be offline after 10 s, and a slow
    // browser takes longer than that.
    const source = redisSource({ url: redis.url, channel: 'cam', lingerMs: 0, offlineAfterMs: 0 })
    const { port, stats } = await startApp(t, { idleRepeatMs: 0, routes: [{ path: '/cam', source, snapshot: '/cam.jpg' }] }, {
      pages: {
        '/': '<!doctype html><link rel=icon href="data:,"><title>home</title>',
        // Framed, in the app's origin all the same: a stream opened as a document never finishes loading, and
        // Firefox driven over BiDi never reports an image document loaded.
        '/snapshot': '<!doctype html><link rel=icon href="data:,"><title>snapshot</title><iframe src="/cam.jpg"></iframe>',
        '/stream': '<!doctype html><link rel=icon href="data:,"><title>stream</title><iframe src="/cam"></iframe>'
      }
    })
    // A viewer keeps the instance subscribed throughout.
    const viewer = await RawClient.get(port, '/cam')
    t.teardown(() => viewer.destroy())
    await eventually(() => handle.producing)
    live.publish((colours[0] as { jpeg: Buffer }).jpeg)
    await viewer.parts(1)
    const attacker = createClient({ url: redis.url })
    await attacker.connect()
    t.teardown(() => attacker.destroy())
    const taken = (): number => (stats()['/cam']?.framesPublished ?? 0) + (stats()['/cam']?.framesRefused ?? 0)

    const page = await browser.open(t)
    const seen: Record<string, PageState> = {}
    // A page with the forged headers; then one a route of type image/jpeg would have taken as its own type.
    const messages = {
      'with Set-Cookie': forged(1, ['Content-Type: text/html', 'Set-Cookie: session=stolen; Path=/'], SCRIPT),
      'text/html alone': forged(2, ['Content-Type: text/html; charset=utf-8'], SCRIPT)
    }
    for (const [name, message] of Object.entries(messages)) {
      const before = taken()
      await attacker.sendCommand(['PUBLISH', 'server-push:cam:frames', message])
      await eventually(() => taken() === before + 1, `the message ${name} taken or refused`)
      await page.goto(`http://127.0.0.1:${port}/snapshot`)
      seen[`snapshot after the message ${name}`] = await settled(page)
    }
    await page.goto(`http://127.0.0.1:${port}/stream`)
    seen['the stream'] = await settled(page)
    await page.goto(`http://127.0.0.1:${port}/`)
    const home = await stateOf(page, false)
    t.comment(JSON.stringify({ ...seen, home }))
    for (const [where, state] of Object.entries(seen)) {
      t.not(state.title, 'pwned', `${where}: no script ran`)
      t.ok(state.images > 0, `${where}: the camera's image shown (${state.contentType})`)
    }
    t.equal(home.cookie, '', 'no cookie stored for the app\'s origin, by header or by script')
    t.equal(stats()['/cam']?.framesRefused, 2)
  })
}
