// The built package as users load it: ESM import and CommonJS require both work and are typed.
import t from 'tap'
import { run } from './helpers/child.js'

const serve = (load: string): string => `
${load}
const app = Fastify()
await app.register(plugin, { routes: [{ path: '/x', source: () => ['hello'], contentType: 'text/plain', boundary: 'B' }] })
await app.listen({ port: 0, host: '127.0.0.1' })
const res = await fetch('http://127.0.0.1:' + app.server.address().port + '/x')
console.log(res.headers.get('content-type'), JSON.stringify(await res.text()))
await app.close()
`
const expected = 'multipart/x-mixed-replace;boundary=B "--B\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nhello\\r\\n--B\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nhello\\r\\n--B--\\r\\n"\n'

t.test('ESM: the default export is the plugin, and so is the named one', async (t) => {
  const check = "import plugin, { serverPush, fromFiles, fromDirectory } from 'fastify-server-push'\nimport Fastify from 'fastify'\n" +
    "if (plugin !== serverPush || typeof fromFiles !== 'function' || typeof fromDirectory !== 'function') throw new Error('exports')"
  const { code, stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', serve(check)])
  t.equal(code, 0, stderr)
  t.equal(stdout, expected)
})

t.test('CommonJS: require() gives the plugin as default and named export; register() takes the module', async (t) => {
  const check = "const push = require('fastify-server-push')\nconst Fastify = require('fastify')\nconst plugin = push\n" +
    "if (push.default !== push.serverPush || typeof push.fromFiles !== 'function') throw new Error('exports');\n(async () => {"
  const { code, stdout, stderr } = await run(process.execPath, ['-e', serve(check) + '})()'])
  t.equal(code, 0, stderr)
  t.equal(stdout, expected)
})

t.test('both entry points are typed: consumers in test/types compile against dist', async (t) => {
  const { code, stdout } = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/types'])
  t.equal(code, 0, stdout)
})

t.test('fastify-server-push/node serves a node:http server and loads no Fastify', async (t) => {
  const script = `
const http = require('node:http')
const { createPushHandler } = require('fastify-server-push/node')
const push = createPushHandler({ source: () => ['hello'], contentType: 'text/plain', boundary: 'B' })
const server = http.createServer(push).listen(0, '127.0.0.1', async () => {
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/x')
  console.log(res.headers.get('content-type'), JSON.stringify(await res.text()))
  console.log(Object.keys(require.cache).filter((file) => /node_modules[\\\\/](fastify|fastify-plugin)[\\\\/]/.test(file)).length)
  await push.close()
  server.close()
})`
  const { code, stdout, stderr } = await run(process.execPath, ['-e', script])
  t.equal(code, 0, stderr)
  t.equal(stdout, expected + '0\n')
})

t.test('fastify-server-push/redis alone loads a Redis client: the other entries load none', async (t) => {
  const script = `
const loaded = () => Object.keys(require.cache).filter((file) => /node_modules[\\\\/]@redis[\\\\/]/.test(file)).length
require('fastify-server-push')
require('fastify-server-push/node')
console.log(loaded())
const { redisSource, publishToRedis, FST_SERVER_PUSH_FRAME_TOO_LARGE } = require('fastify-server-push/redis')
console.log(loaded() > 0, typeof redisSource, typeof publishToRedis, FST_SERVER_PUSH_FRAME_TOO_LARGE.name)`
  const { code, stdout, stderr } = await run(process.execPath, ['-e', script])
  t.equal(code, 0, stderr)
  t.equal(stdout, '0\ntrue function function FastifyError\n')
})

t.test('FST_SERVER_PUSH_FRAME_TOO_LARGE comes from the main entry, as every code does, and is the Redis entry\'s own', async (t) => {
  const script = `
const main = require('fastify-server-push')
const { FST_SERVER_PUSH_FRAME_TOO_LARGE } = require('fastify-server-push/redis')
console.log(main.FST_SERVER_PUSH_FRAME_TOO_LARGE === FST_SERVER_PUSH_FRAME_TOO_LARGE, new main.FST_SERVER_PUSH_FRAME_TOO_LARGE(2, 1).code)`
  const { code, stdout, stderr } = await run(process.execPath, ['-e', script])
  t.equal(code, 0, stderr)
  t.equal(stdout, 'true FST_SERVER_PUSH_FRAME_TOO_LARGE\n')
})

t.test('fastify-server-push/metrics alone loads prom-client: the other entries load none', async (t) => {
  const script = `
const loaded = () => Object.keys(require.cache).filter((file) => /node_modules[\\\\/]prom-client[\\\\/]/.test(file)).length
require('fastify-server-push')
require('fastify-server-push/node')
require('fastify-server-push/redis')
console.log(loaded())
const { registerMetrics } = require('fastify-server-push/metrics')
const { Registry } = require('prom-client')
const registry = new Registry()
registerMetrics({ registry })
console.log(loaded() > 0, registry.getMetricsAsArray().length > 0)`
  const { code, stdout, stderr } = await run(process.execPath, ['-e', script])
  t.equal(code, 0, stderr)
  t.equal(stdout, '0\ntrue true\n')
})

t.test('fastify-server-push/metrics as an ES module', async (t) => {
  const script = "import { registerMetrics, METRIC_NAMES } from 'fastify-server-push/metrics'\nimport client from 'prom-client'\n" +
    "const metrics = registerMetrics()\nconsole.log(METRIC_NAMES.every((name) => client.register.getSingleMetric('fastify_server_push_' + name) !== undefined))\nmetrics.close()"
  const { code, stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script])
  t.equal(code, 0, stderr)
  t.equal(stdout, 'true\n')
})
