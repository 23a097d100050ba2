// Clients and sources that misbehave, on purpose or not: each gets a defined answer, and nothing of theirs piles
// up in the server.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { createLiveSource, type SourceContext } from '../lib/index.js'
import { eventually, startApp } from './helpers/app.js'
import { RawClient } from './helpers/wire-client.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

t.test('an HTTP/0.9 request line is answered 505 and logged as a request, not as a server error', async (t) => {
  const { port, logs } = await startApp(t, { routes: [{ path: '/live', source: createLiveSource() }] })
  const client = await RawClient.open(port, 'GET /live\r\n\r\n')
  await client.closed
  const text = client.data.toString('latin1')
  t.match(text, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/)
  t.match(text, /Server push needs HTTP\/1\.0 or HTTP\/1\.1, got HTTP\/0\.9/)
  t.same(logs.filter((line) => line.level >= 50), [], 'nothing logged at error level')
})

t.test('many snapshot requests waiting at once add no listener each to anything shared', async (t) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const live = createLiveSource()
  const { app, port } = await startApp(t, { routes: [{ path: '/v', source: live, snapshot: '/v.jpg', snapshotTimeoutMs: 60_000 }] })
  const waiting = Array.from({ length: 30 }, () => fetch(`http://127.0.0.1:${port}/v.jpg`))
  // Every request is in the handler, waiting, once each holds the source.
  await eventually(() => (live as unknown as { demand: number }).demand === 30)
  live.publish('the frame')
  const bodies = await Promise.all(waiting.map(async (response) => await (await response).text()))
  t.ok(bodies.every((body) => body === 'the frame'), 'every waiting request gets the frame')
  await app.close()
  t.same(warnings.map((warning) => warning.name), [], 'no MaxListenersExceededWarning')
})

t.test('viewers that left while their frame function never settles are collectable at once', async (t) => {
  const requests: Array<WeakRef<object>> = []
  // One promise every viewer waits on, as on a camera's next frame that never comes: it outlives them all.
  const stuck = new Promise<never>(() => {})
  const { app, port } = await startApp(t, {
    routes: [{
      path: '/stuck',
      contentType: 'text/plain',
      // The first frame at once, then the promise that never settles: each viewer is left waiting on it.
      source: ({ request }: SourceContext) => {
        const first = requests.every((ref) => ref.deref() !== request)
        if (first) requests.push(new WeakRef(request))
        return first ? 'first' : stuck
      }
    }]
  })
  const viewers = await Promise.all(Array.from({ length: 200 }, () => RawClient.get(port, '/stuck')))
  await Promise.all(viewers.map((viewer) => viewer.parts(1)))
  t.equal(requests.length, 200)
  for (const viewer of viewers) viewer.destroy()
  await eventually(() => app.serverPush.stats()['/stuck']?.viewers === 0)
  const alive = (): number => requests.filter((ref) => ref.deref() !== undefined).length
  await eventually(() => {
    gc()
    return alive() === 0
  })
  t.equal(alive(), 0, 'no request of a viewer gone is kept by the promise it waits on')
})
