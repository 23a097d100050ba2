// The app as several processes behind a real redis-server, each a separate Node process running the built package
// (test/fixtures/redis-instance.mjs): one camera read once, shown by every instance.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { eventually } from './helpers/app.js'
import { plainEnv, startChild } from './helpers/child.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { startRedis, type RedisServer } from './helpers/redis.js'
import { partsOf, RawClient } from './helpers/wire-client.js'

interface Instance {
  child: ChildProcess
  port: number
  /** The instance's log lines so far, parsed. */
  logs: () => Array<{ msg: string, pid: number, [key: string]: unknown }>
}

async function instance (t: Test, redis: RedisServer, { publish = true, fps = 20, size = 0 } = {}): Promise<Instance> {
  const { child, match, output } = await startChild(process.execPath, ['test/fixtures/redis-instance.mjs', JSON.stringify({ url: redis.url, publish, fps, size })],
    /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, plainEnv())
  t.teardown(() => { child.kill('SIGKILL') })
  const logs = (): Array<{ msg: string, pid: number }> => output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string, pid: number })
  return { child, port: Number(match[1]), logs }
}

const cameraEvents = (instances: Instance[], msg: string): number[] =>
  instances.flatMap(({ logs }) => logs().filter((line) => line.msg === msg).map((line) => line.pid))

/** Each part a viewer got, by the frame number its body carries: its headers and body as text. */
function framesOf (viewer: RawClient): Map<number, string> {
  return new Map(partsOf(viewer).map((part) => {
    const body = part.body.toString('latin1')
    return [Number(/^frame (\d+)/.exec(body)?.[1]), `${part.rawHeaders.join('\n')}\n\n${body}`]
  }))
}

const consecutive = (numbers: number[]): boolean => numbers.every((n, i) => i === 0 || n === (numbers[i - 1] as number) + 1)

t.test('three instances, every one publishing the same camera: it is read once, and every viewer gets every frame, byte for byte', async (t) => {
  const redis = await startRedis(t)
  const instances = [await instance(t, redis), await instance(t, redis), await instance(t, redis)]
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(cameraEvents(instances, 'camera started'), [], 'no viewer anywhere: no camera runs')
  const viewers = await Promise.all(instances.map(({ port }) => RawClient.get(port, '/cam')))
  await Promise.all(viewers.map((viewer) => viewer.parts(30)))
  const started = cameraEvents(instances, 'camera started')
  t.equal(started.length, 1, 'one camera started, in one instance')
  const seen = viewers.map(framesOf)
  for (const [i, frames] of seen.entries()) t.ok(consecutive([...frames.keys()]), `viewer ${i + 1} got every frame from its first on`)
  const common = [...(seen[0] as Map<number, string>).keys()].filter((n) => seen.every((frames) => frames.has(n)))
  t.ok(common.length >= 20, `${common.length} frames seen by all three`)
  for (const n of common) {
    const [first, ...others] = seen.map((frames) => frames.get(n))
    if (!others.every((other) => other === first)) t.fail(`frame ${n} differs between instances`)
  }
  t.match(seen[0]?.get(common[0] as number), new RegExp(`^Content-Type: text/plain\\nContent-Length: \\d+\\nX-Timestamp: \\d+\\.\\d{6}\\n\\nframe \\d+ from ${started[0]} $`))
  // The camera's instance leaves the viewing to the others: its viewer goes, the camera runs on.
  const producer = instances.findIndex(({ child }) => child.pid === started[0])
  viewers[producer]?.destroy()
  const others = viewers.filter((_, i) => i !== producer)
  const counts = others.map((viewer) => partsOf(viewer).length)
  await Promise.all(others.map((viewer, i) => viewer.parts((counts[i] as number) + 10)))
  t.same(cameraEvents(instances, 'camera stopped'), [], 'still watched elsewhere: the camera runs on')
  for (const viewer of others) viewer.destroy()
  await eventually(() => cameraEvents(instances, 'camera stopped').length === 1, 'the camera stops after the last viewer anywhere left')
  t.same(cameraEvents(instances, 'camera started'), started, 'and was never started twice')
})

t.test('Redis killed and restarted under two instances: the viewers stay connected and the frames resume', async (t) => {
  const redis = await startRedis(t)
  const instances = [await instance(t, redis, { publish: true }), await instance(t, redis, { publish: false })]
  const viewers = await Promise.all(instances.map(({ port }) => RawClient.get(port, '/cam')))
  await Promise.all(viewers.map((viewer) => viewer.parts(5)))
  await redis.kill()
  const counts = viewers.map((viewer) => partsOf(viewer).length)
  await new Promise((resolve) => setTimeout(resolve, 500))
  await redis.start()
  await Promise.all(viewers.map((viewer, i) => viewer.parts((counts[i] as number) + 10)))
  for (const viewer of viewers) t.notOk(viewer.ended, 'connected throughout')
  const status = await (await fetch(`http://127.0.0.1:${instances[1]?.port as number}/status`)).json() as Record<string, { framesDropped: number }>
  t.ok((status['/cam']?.framesDropped ?? 0) > 0, `the viewing instance counted the gap (${status['/cam']?.framesDropped} frames)`)
  t.equal(instances[1]?.logs().filter((line) => line.msg === 'server push lost its Redis connection, reconnecting').length, 1, 'logged once')
  for (const viewer of viewers) viewer.destroy()
})

t.test('an instance paused until Redis cuts it off: once resumed, it reconnects and shows the newest frames again', async (t) => {
  const redis = await startRedis(t)
  await redis.command(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 256kb 0 0'])
  const [camera, paused] = [await instance(t, redis, { publish: true, fps: 50, size: 8000 }), await instance(t, redis, { publish: false })]
  // Watched in the camera's own instance too, so that the camera runs throughout: with the paused instance its
  // only viewer, it stops once Redis has cut that one off, and, restarted, numbers its frames from 1 again.
  const watcher = await RawClient.get(camera.port, '/cam')
  const viewer = await RawClient.get(paused.port, '/cam')
  await viewer.parts(5)
  paused.child.kill('SIGSTOP')
  await eventually(() => /overcoming of output buffer limits/.test(redis.log()), 'Redis cuts the paused instance off')
  paused.child.kill('SIGCONT')
  // What the kernel had buffered for it comes first (frames in order), then the cut, the reconnect and the gap.
  let dropped = 0
  for (const deadline = Date.now() + PATIENCE_MS; dropped === 0 && Date.now() < deadline;) {
    const status = await (await fetch(`http://127.0.0.1:${paused.port}/status`)).json() as Record<string, { framesDropped: number }>
    dropped = status['/cam']?.framesDropped ?? 0
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(dropped > 0, `it counted the frames it missed (${dropped})`)
  const before = partsOf(viewer).length
  await viewer.parts(before + 20)
  t.notOk(viewer.ended, 'its viewer stayed connected, and gets frames again')
  const numbers = [...framesOf(viewer).keys()]
  t.ok(numbers.every((n, i) => i === 0 || n > (numbers[i - 1] as number)), 'in order, none twice')
  t.same(camera.logs().filter((line) => line.msg === 'camera started').length, 1, 'the camera ran throughout')
  viewer.destroy()
  watcher.destroy()
  camera.child.kill('SIGTERM')
  await once(camera.child, 'exit')
})
