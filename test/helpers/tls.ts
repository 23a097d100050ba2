// A self-signed certificate for 127.0.0.1, made by openssl for this test run: nothing trusts it but the test
// clients told to, and no private key is committed.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './app.js'

export interface Certificate {
  cert: Buffer
  key: Buffer
}

let made: Certificate | undefined

/** The run's certificate and key, made on first use. */
export function certificate (): Certificate {
  if (made !== undefined) return made
  const dir = tempDir('tls')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  made = { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }
  return made
}
