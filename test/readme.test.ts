// The README's code as a new user takes it: every ```ts and ```js block is compiled against the built package
// (dist/, through the package's own name, as test/types does), all in one tsc program, and a block is then run
// on loopback and asked what its marker says, its answers parsed as a camera client would. A block that cannot
// run here says so with a marker readers do not see; a block with no marker fails, as does one that drifts.
import { once } from 'node:events'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fork } from 'node:child_process'
import t from 'tap'
import { plainEnv, ROOT, run } from './helpers/child.js'
import { PATIENCE_MS } from './helpers/patience.js'
import { RawClient, parseResponse, type ParsedResponse } from './helpers/wire-client.js'

/**
 * What the line before a block says of it (an HTML comment, which Markdown does not show):
 * `<!-- check: types-only: <why it cannot run here> -->`, or the requests that show it working, such as
 * `<!-- check: GET /cam.mjpg, GET admin:secret@/cam.jpg image/jpeg, GET /cam.jpg 401 -->`: a push stream, unless
 * the request names the type of a plain answer or a status other than 200.
 */
type Check = { kind: 'types-only', why: string } | { kind: 'serve', requests: Asked[] }

/** One request a marker asks for, and what it must get: a stream, a plain answer of `type`, or `status`. */
interface Asked { path: string, credentials: string | undefined, status: number, type: string | undefined }

interface Block {
  /** Where the block's code starts, as `README.md:<line>`; its first line is the one after the fence. */
  readonly file: string
  readonly line: number
  readonly lang: 'ts' | 'js'
  readonly code: string
  /** The block's marker, or why it has none that can be followed. */
  readonly check: Check | { kind: 'unmarked', problem: string }
}

const MARKER = /^<!-- check: (.*) -->$/
const REQUEST = /^GET (?:([^@\s]+)@)?(\/\S*)(?: (?:(\d{3})|([\w.+-]+\/[\w.+-]+)))?$/
// The port the README's servers listen on; under the test each listens on a free one instead.
const README_PORT = 3000

function parseCheck (text: string): Block['check'] {
  const typesOnly = /^types-only: (.+)$/.exec(text)
  if (typesOnly !== null) return { kind: 'types-only', why: typesOnly[1] as string }
  const requests: Asked[] = []
  for (const item of text.split(',').map((part) => part.trim())) {
    const match = REQUEST.exec(item)
    if (match === null) return { kind: 'unmarked', problem: `a marker that asks neither types-only: <why> nor GET [user:password@]/path [status | type]: ${JSON.stringify(item)}` }
    requests.push({ credentials: match[1], path: match[2] as string, status: Number(match[3] ?? 200), type: match[4] })
  }
  return { kind: 'serve', requests }
}

/** The ```ts and ```js blocks of a Markdown text, each with its marker. */
export function blocksOf (markdown: string, name: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i] as string)
    if (fence === null) continue
    const end = lines.indexOf('```', i + 1)
    if (end === -1) throw new Error(`${name}:${i + 1}: a code block that never ends`)
    const lang = fence[1] === 'ts' || fence[1] === 'typescript' ? 'ts' : fence[1] === 'js' || fence[1] === 'javascript' ? 'js' : undefined
    if (lang !== undefined) {
      const marker = MARKER.exec(lines[i - 1] ?? '')
      blocks.push({
        file: `${name}:${i + 2}`,
        line: i + 2,
        lang,
        code: lines.slice(i + 1, end).join('\n') + '\n',
        check: marker === null
          ? { kind: 'unmarked', problem: 'no <!-- check: ... --> line right before it: name the requests that show it working, or types-only: <why>' }
          : parseCheck(marker[1] as string)
      })
    }
    i = end
  }
  return blocks
}

/** A block's source file in the program; ESM either way, as the README's blocks use top-level await. */
function sourceName (index: number, block: Block): string {
  return `block${index}.${block.lang === 'ts' ? 'mts' : 'mjs'}`
}

/**
 * Compiles every block in one tsc program (checked and emitted to `dir`/out), as a user's project would against
 * the built package; returns each block's errors, with the README's line for tsc's.
 */
async function compile (dir: string, blocks: readonly Block[]): Promise<string[][]> {
  mkdirSync(join(dir, 'src'))
  blocks.forEach((block, index) => writeFileSync(join(dir, 'src', sourceName(index, block)), block.code))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      allowJs: true,
      checkJs: true,
      rootDir: 'src',
      outDir: 'out'
    },
    include: ['src']
  }))
  const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir, '--pretty', 'false'])
  const errors = blocks.map((): string[] => [])
  for (const line of (stdout + stderr).split('\n')) {
    const match = /src\/block(\d+)\.m[tj]s\((\d+),(\d+)\): (.*)$/.exec(line)
    if (match === null) {
      if (line.trim() !== '') errors.forEach((list) => list.push(line))
      continue
    }
    const block = blocks[Number(match[1])] as Block
    errors[Number(match[1])]?.push(`${block.file.replace(/:\d+$/, '')}:${block.line + Number(match[2]) - 1}:${match[3]} ${match[4]}`)
  }
  return errors
}

// Loaded before a block that serves: a server it starts on the README's port listens on a free one instead, and
// reports each address it listens on to the test, whose IPC channel keeps nothing alive.
const PRELOAD = `import net from 'node:net'
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (args[0] === ${README_PORT}) args[0] = 0
  else if (typeof args[0] === 'object' && args[0] !== null && args[0].port === ${README_PORT}) args[0] = { ...args[0], port: 0 }
  this.once('listening', () => process.send?.({ listening: this.address() }))
  return listen.apply(this, args)
}
process.channel?.unref()
`

/** What a request got, in a line; throws when the answer is not what the marker asked or not well-formed. */
async function ask (port: number, { path, credentials, status, type: asked }: Asked): Promise<string> {
  const auth = credentials === undefined ? [] : [`Authorization: Basic ${Buffer.from(credentials).toString('base64')}`]
  const client = await RawClient.get(port, path, { headers: ['Connection: close', ...auth] })
  try {
    await client.until((data) => parseResponse(data) !== undefined)
    const head = client.response() as ParsedResponse
    const code = Number(head.statusLine.split(' ')[1])
    const multipart = head.boundary !== ''
    const answer = multipart && code === 200 ? await client.parts(1) : await client.end()
    const type = answer.headers['content-type'] ?? 'no type'
    if (code !== status) throw new Error(`GET ${path}: ${answer.statusLine} (${type}), not ${status}: ${answer.body.subarray(0, 200).toString()}`)
    if (code !== 200) return `${code} ${type}`
    if (multipart !== (asked === undefined)) throw new Error(`GET ${path}: ${type}, not ${asked ?? 'a push stream'}`)
    if (asked !== undefined && !type.startsWith(asked)) throw new Error(`GET ${path}: ${type}, not ${asked}`)
    const part = multipart ? answer.multipart.parts[0] : undefined
    const body = part?.body ?? answer.body
    const bodyType = part === undefined ? type : part.headers['content-type'] ?? 'no type'
    const length = answer.headers['content-length']
    if (!multipart && length !== undefined && Number(length) !== body.length) throw new Error(`GET ${path}: Content-Length ${length}, body of ${body.length} bytes`)
    if (body.length === 0) throw new Error(`GET ${path}: an empty body`)
    if (bodyType.startsWith('image/jpeg') && !(body[0] === 0xff && body[1] === 0xd8 && body.at(-2) === 0xff && body.at(-1) === 0xd9)) {
      throw new Error(`GET ${path}: an image/jpeg body that is not a whole JPEG`)
    }
    if (bodyType.startsWith('application/json')) JSON.parse(body.toString())
    return multipart ? `200 ${type}, a first part of ${bodyType}, ${body.length} bytes` : `200 ${type}, ${body.length} bytes`
  } finally {
    client.destroy()
  }
}

/**
 * Runs a compiled block from example-app/ (whose frames/ stands for a user's images) until it listens, makes its
 * marker's requests, then sends SIGTERM: a block that handles it must exit by itself, with code 0. Returns what
 * each request got; throws with the block's output when anything fails.
 */
async function serve (script: string, preload: string, requests: readonly Asked[]): Promise<string[]> {
  const child = fork(script, [], {
    cwd: join(ROOT, 'example-app'),
    env: plainEnv(),
    execArgv: ['--import', preload],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  let output = ''
  child.stdout?.on('data', (chunk) => { output += String(chunk) })
  child.stderr?.on('data', (chunk) => { output += String(chunk) })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const hang = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS)
  try {
    // Fastify listens on each address of localhost; the test connects to 127.0.0.1.
    const port = await new Promise<number>((resolve, reject) => {
      child.on('message', (message: { listening?: { address: string, port: number } }) => {
        const address = message.listening
        if (address !== undefined && ['127.0.0.1', '0.0.0.0', '::'].includes(address.address)) resolve(address.port)
      })
      exited.then(([code, signal]) => reject(new Error(`exited with ${code ?? signal} before it listened`)))
    })
    const answers = []
    for (const request of requests) answers.push(await ask(port, request))
    child.kill('SIGTERM')
    const [code, signal] = await exited
    const handles = /\bSIGTERM\b/.test(readFileSync(script, 'utf8'))
    if (handles ? code !== 0 : signal !== 'SIGTERM') throw new Error(`after SIGTERM: exited with ${code ?? signal}`)
    return answers
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    throw new Error(`${(error as Error).message}\n--- its output:\n${output}`)
  } finally {
    clearTimeout(hang)
  }
}

/** What a drifted README looks like: each block fails in its own way, and the test must see every one. */
const DRIFTED = `
<!-- check: types-only: a name the README never defines -->
\`\`\`ts
import { liveFrom } from 'fastify-server-push'
const camera = liveFrom(readCamera)
\`\`\`

<!-- check: GET /cam.mjpg -->
\`\`\`ts
import Fastify from 'fastify'
import serverPush, { fromDirectory } from 'fastify-server-push'
const app = Fastify()
await app.register(serverPush)
app.get('/video.mjpg', { serverPush: { source: fromDirectory('./frames') } }, async () => {})
await app.listen({ port: 3000 })
\`\`\`

<!-- check: GET /video.mjpg -->
\`\`\`js
import Fastify from 'fastify'
import serverPush, { fromDirectory } from 'fastify-server-push'
const app = Fastify()
await app.register(serverPush)
app.get('/video.mjpg', { serverPush: { source: fromDirectory('./no-such-directory') } }, async () => {})
await app.listen({ port: 3000 })
\`\`\`

\`\`\`js
console.log('a block no one said how to check')
\`\`\`
`

const readme = blocksOf(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'README.md')
const drifted = blocksOf(DRIFTED, 'drifted.md')
const dir = t.testdir({ 'preload.mjs': PRELOAD })
const preload = join(dir, 'preload.mjs')
const all = [...readme, ...drifted]
const compiled = compile(dir, all)
const outputOf = (index: number): string => join(dir, 'out', sourceName(index, all[index] as Block).replace(/\.mts$/, '.mjs'))

t.test('the README has blocks to check, each with a marker', async (t) => {
  t.ok(readme.length > 0)
  for (const block of readme) t.not(block.check.kind, 'unmarked', `${block.file}: ${'problem' in block.check ? block.check.problem : ''}`)
})

readme.forEach((block, index) => {
  t.test(`${block.file} (${block.check.kind})`, async (t) => {
    const errors = (await compiled)[index] as string[]
    t.same(errors, [], 'type-checks against the built package')
    if (block.check.kind === 'serve' && errors.length === 0) {
      for (const answer of await serve(outputOf(index), preload, block.check.requests)) t.pass(answer)
    }
  })
})

t.test('a drifted block fails the check', async (t) => {
  const errors = (await compiled).slice(readme.length)
  const [undefinedName, wrongPath, missingFiles, unmarked] = drifted.map((block, i) => ({ block, script: outputOf(readme.length + i), errors: errors[i] as string[] }))
  const requests = (block: Block | undefined): Asked[] => block?.check.kind === 'serve' ? block.check.requests : []
  t.match(undefinedName?.errors, [/^drifted\.md:5:\d+ error TS2304: Cannot find name 'readCamera'/], 'a name the block never defines: tsc says where in the Markdown')
  t.same(wrongPath?.errors, [])
  await t.rejects(serve(wrongPath?.script as string, preload, requests(wrongPath?.block)), /GET \/cam\.mjpg: HTTP\/1\.1 404 Not Found/, 'a route the block no longer serves')
  await t.rejects(serve(wrongPath?.script as string, preload, [{ path: '/video.mjpg', credentials: undefined, status: 200, type: 'image/jpeg' }]),
    /GET \/video\.mjpg: multipart\/x-mixed-replace;boundary=\w+, not image\/jpeg/, 'a stream where a plain answer was promised')
  t.same(missingFiles?.errors, [])
  await t.rejects(serve(missingFiles?.script as string, preload, requests(missingFiles?.block)),
    /exited with 1 before it listened[^]*FST_SERVER_PUSH_INVALID_SOURCE/, 'a block that fails before it serves')
  t.match(unmarked?.block.check, { kind: 'unmarked', problem: /no <!-- check: \.\.\. --> line/ }, 'a block with no marker')
})
