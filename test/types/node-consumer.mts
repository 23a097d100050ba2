// Compiled against the built package's node entry (dist/esm/node.d.ts) as a node:http user sees it.
import { createServer } from 'node:http'
import { createIngestHandler, createLiveSource, createPushHandler, createSnapshotHandler, type IngestHandlerOptions, type PushHandlerOptions, type SourceFunction } from 'fastify-server-push/node'

const camera = createLiveSource()
const echo: SourceFunction = ({ request }) => `<p>${request.headers['user-agent'] ?? ''}</p>`
const options: PushHandlerOptions = { source: camera, maxFps: 10, framing: 'auto', name: '/cam.mjpg' }
const push = createPushHandler(options)
const still = createSnapshotHandler({ source: camera, snapshotTimeoutMs: 1000 })
const page = createPushHandler({ source: echo, contentType: 'text/html', intervalMs: 1000 })
const server = createServer((req, res) => {
  if (req.url === '/cam.mjpg') return push(req, res)
  if (req.url === '/cam.jpg') return still(req, res)
  page(req, res, (error) => { res.statusCode = 500; res.end(String(error)) })
})
const viewers: number = push.stats().viewers
await push.ready
await Promise.all([push.close(), still.close(), page.close()])
server.close()
const ingestOptions: IngestHandlerOptions = { source: camera, auth: { username: 'cam', password: 'secret' }, idleTimeoutMs: 5000 }
const ingest = createIngestHandler(ingestOptions)
createIngestHandler({ source: camera, auth: async (req) => req.headers['x-key'] === 'k' })
createIngestHandler({ source: camera, auth: 'anonymous', types: ['image/jpeg'] })
await ingest.close()
// @ts-expect-error auth is required: no anonymous ingest unless said
createIngestHandler({ source: camera })
// @ts-expect-error a snapshot needs a live source
createSnapshotHandler({ source: echo })
// @ts-expect-error unknown settings are refused
createPushHandler({ source: camera, interval: 5 })
export { viewers }
