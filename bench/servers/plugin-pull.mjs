// The plugin's pull route: the scenario's frames as files in a fresh directory, served with fromDirectory() and
// paced per stream by `intervalMs`. Each stream walks the files on its own clock, so its parts carry no
// X-Timestamp (no latency figure), and each viewer starts at the first file: the load generator matches a body to
// its frame by the number inside it, not by order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import serverPush, { fromDirectory } from 'fastify-server-push'
import { makeFrames, serve, settings } from '../common.mjs'

const { fps, size, count } = settings()
const dir = mkdtempSync(join(tmpdir(), 'server-push-bench-'))
// serve() exits the process on 'stop', so 'exit' is where the directory goes; a Ctrl-C reaches this process too
// (same process group), and must exit through it as well. The files are read once, at register.
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1))
makeFrames(size, count).forEach((frame, n) => writeFileSync(join(dir, `frame-${String(n).padStart(2, '0')}.jpg`), frame))
const app = Fastify({ logger: false })
await app.register(serverPush, { routes: [{ path: '/live', source: fromDirectory(dir), intervalMs: 1000 / fps, boundary: 'bench' }] })
await app.listen({ port: 0, host: '127.0.0.1' })
// No producer: each stream is paced on its own from its first part.
serve(app.server.address().port)
