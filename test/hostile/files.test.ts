// Careless inputs to file sources: a directory of more files than the open-file limit allows at once.
// (FIFOs, devices and links out of a directory are refused at register: test/options.test.ts.)
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from '../helpers/app.js'
import { run } from '../helpers/child.js'

t.test('fromDirectory reads a few files at a time: a thousand files load under an open-file limit of 64', async (t) => {
  const dir = tempDir('many')
  for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `${i}.txt`), `frame ${i}`)
  // A child with its own low limit, loading the built package as a user would.
  const script = `import Fastify from 'fastify'
import serverPush, { fromDirectory } from 'fastify-server-push'
const app = Fastify()
await app.register(serverPush, { routes: [{ path: '/x', source: fromDirectory(process.argv[1]) }] })
console.log('registered')`
  const { code, stdout, stderr } = await run('bash', ['-c', 'ulimit -n 64 && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, dir])
  t.equal(code, 0, stderr)
  t.equal(stdout, 'registered\n')
})
