// For the HTTP/2 and TLS tests: a self-signed certificate for 127.0.0.1, made by openssl for this test run (nothing
// trusts it but the test clients told to, and no private key is committed), a Fastify app served over each
// protocol, and an HTTP/2 client.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import http2 from 'node:http2'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import serverPush, { type ServerPushOptions } from '../../lib/index.js'
import { tempDir } from './app.js'
import { parseMultipart, type ParsedMultipart } from './wire-client.js'

export interface Certificate {
  cert: Buffer
  key: Buffer
  /** Where the PEM files are, for a program given them by name. */
  certPath: string
  keyPath: string
}

let made: Certificate | undefined

/** The run's certificate and key, made on first use. */
export function certificate (): Certificate {
  if (made !== undefined) return made
  const dir = tempDir('tls')
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  made = { cert: readFileSync(certPath), key: readFileSync(keyPath), certPath, keyPath }
  return made
}

/**
 * How an app is served: cleartext HTTP/2 (prior knowledge), HTTP/2 over TLS, both protocols on one TLS port, or
 * HTTP/1.1 over TLS.
 */
export type Serving = 'h2c' | 'h2' | 'h2+http1' | 'https'

/** A Fastify app with the plugin, served as `serving` on a free port; closed at the end of `t`. */
export async function serve (t: Test, serving: Serving, options: ServerPushOptions, setup?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance, origin: string }> {
  const { cert, key } = certificate()
  const fastify = (serving === 'h2c'
    ? Fastify({ http2: true })
    : serving === 'https'
      ? Fastify({ https: { cert, key } })
      : Fastify({ http2: true, https: { cert, key, allowHTTP1: serving === 'h2+http1' } })) as unknown as FastifyInstance
  t.teardown(() => fastify.close())
  setup?.(fastify)
  await fastify.register(serverPush, options)
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const { port } = fastify.server.address() as { port: number }
  return { app: fastify, origin: `${serving === 'h2c' ? 'http' : 'https'}://127.0.0.1:${port}` }
}

/** An HTTP/2 session to `origin` with `options` (its settings: windows), trusting the run's certificate; destroyed at the end of `t`. */
export function connect (t: Test, origin: string, options: http2.SecureClientSessionOptions = {}): http2.ClientHttp2Session {
  const session = http2.connect(origin, origin.startsWith('https') ? { ca: certificate().cert, ...options } : options)
  session.on('error', () => {})
  t.teardown(() => session.destroy())
  return session
}

/** One HTTP/2 request: its response headers, and its body as it grows. */
export interface H2Response {
  stream: http2.ClientHttp2Stream
  headers: http2.IncomingHttpHeaders
  body: () => Buffer
  /** The body parsed as multipart with `boundary`, B unless given. */
  parts: (boundary?: string) => ParsedMultipart
  ended: Promise<void>
}

/**
 * Sends a request on `session`; resolves once its response headers are in. It asks for its response to be
 * interleaved with the session's others (RFC 9218's `i`), as browsers ask for images (Chromium: `u=2, i`). Node 22
 * and later (nghttp2 without RFC 7540's priority tree) send a session's responses one after another unless asked:
 * a push stream that always has a part waiting would hold the connection, and the streams after it get nothing.
 */
export async function request (session: http2.ClientHttp2Session, path: string, method = 'GET'): Promise<H2Response> {
  const stream = session.request({ ':path': path, ':method': method, priority: 'u=3, i' })
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  stream.on('error', () => {})
  const ended = new Promise<void>((resolve) => stream.once('close', resolve))
  const [headers] = await once(stream, 'response') as [http2.IncomingHttpHeaders]
  const body = (): Buffer => Buffer.concat(chunks)
  return { stream, headers, body, parts: (boundary = 'B') => parseMultipart(body(), boundary), ended }
}
