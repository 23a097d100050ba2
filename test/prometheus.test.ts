// A real Prometheus (Debian's prometheus package) scrapes the example app's GET /metrics every second while
// viewers come and go; its HTTP query API must come to say what the viewers and the app saw.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually } from './helpers/app.js'
import { freePort, plainEnv, startChild } from './helpers/child.js'
import { RawClient } from './helpers/wire-client.js'

interface QueryAnswer { status: string, data: { resultType: string, result: Array<{ metric: Record<string, string>, value: [number, string] }> } }

t.test('Prometheus scrapes the example app: viewer counts and parts counters as the viewers and the app saw them', async (t) => {
  const dir = t.testdir({})
  const app = await startChild(process.execPath, ['example-app/server.js'], /Server listening at http:\/\/127\.0\.0\.1:(\d+)/,
    plainEnv({ PORT: '0', HOST: '127.0.0.1' }))
  t.teardown(() => { app.child.kill('SIGKILL') })
  const appPort = Number(app.match[1])

  const port = await freePort()
  writeFileSync(join(dir, 'p.yml'), `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: example-app
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['127.0.0.1:${appPort}']
`)
  const prometheus = spawn('prometheus', [`--config.file=${join(dir, 'p.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  prometheus.stderr.on('data', (chunk) => { log += String(chunk) })
  const exited = once(prometheus, 'exit')
  t.teardown(async () => {
    prometheus.kill('SIGKILL')
    await exited
  })
  const api = `http://127.0.0.1:${port}`
  const query = async (expr: string): Promise<number | undefined> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(() => undefined)
    if (res?.ok !== true) return undefined
    const answer = await res.json() as QueryAnswer
    const [sample] = answer.data.result
    return sample === undefined ? undefined : Number(sample.value[1])
  }
  const metric = (name: string, route: string): string => `fastify_server_push_${name}{job="example-app",route="${route}"}`
  const comesTo = async (expr: string, expected: number): Promise<void> => {
    let last: number | undefined
    try {
      await eventually(async () => (last = await query(expr)) === expected, `${expr} to be ${expected}`)
    } catch (error) {
      throw new Error(`${(error as Error).message}; last ${last}; Prometheus said:\n${log.slice(-2000)}`)
    }
    t.pass(`Prometheus says ${expr} is ${expected}`)
  }
  await comesTo('up{job="example-app"}', 1)
  await comesTo(metric('viewers', '/video.mjpg'), 0)

  // Two viewers of the thumbnails (a part a second), then one of the live camera.
  const viewers = [await RawClient.get(appPort, '/video.mjpg'), await RawClient.get(appPort, '/video.mjpg')]
  await Promise.all(viewers.map((viewer) => viewer.parts(2)))
  await comesTo(metric('viewers', '/video.mjpg'), 2)
  const camera = await RawClient.get(appPort, '/live.mjpg')
  await camera.parts(3)
  await comesTo(metric('viewers', '/live.mjpg'), 1)
  const parsed = viewers.map((viewer) => viewer.response()?.multipart.parts.length ?? 0)
  for (const viewer of [...viewers, camera]) viewer.destroy()
  await comesTo(metric('viewers', '/video.mjpg'), 0)
  await comesTo(metric('viewers', '/live.mjpg'), 0)

  // The viewers gone, the app's counters stand still: Prometheus must come to the app's own count, which is what
  // the viewers parsed, and at most the part each was sent as it left.
  const status = await (await fetch(`http://127.0.0.1:${appPort}/push-status`)).json() as Record<string, { partsSent: number, bytesSent: number }>
  const sent = status['/video.mjpg']?.partsSent ?? -1
  const wire = parsed.reduce((sum, count) => sum + count, 0)
  t.ok(sent >= wire && sent <= wire + viewers.length, `the app sent ${sent} parts, the viewers parsed ${wire}`)
  await comesTo(metric('parts_sent_total', '/video.mjpg'), sent)
  await comesTo(metric('sent_bytes_total', '/video.mjpg'), status['/video.mjpg']?.bytesSent ?? -1)
  await comesTo(metric('streams_ended_total', '/video.mjpg').replace('}', ',reason="client-gone"}'), 2)
  t.ok((await query(metric('parts_sent_total', '/live.mjpg')) ?? 0) >= 3, 'the camera\'s parts counted too')
  t.ok((await query(metric('part_age_seconds_count', '/live.mjpg')) ?? 0) >= 3, 'and the camera pictures\' age at send')
})
