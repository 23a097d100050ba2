// HTTP Basic credentials and their check, in constant time: an ingest route's publishers, and the command's
// viewers. Compared as digests of equal length, so that neither the length nor the content of the expected
// credentials leaks through the time a check takes.
import { createHash, timingSafeEqual } from 'node:crypto'

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** What a request's credentials are checked against: the user and password, kept as their digest only. */
export function basicCredentials (username: string, password: string): Buffer {
  return digest(`${username}:${password}`)
}

/** Whether an Authorization header carries the credentials `expected` was made from. */
export function basicMatches (authorization: string | undefined, expected: Buffer): boolean {
  const header = (authorization ?? '').trim()
  // The scheme's five letters, then the token.
  return /^basic\s+[A-Za-z0-9+/=]+$/i.test(header) && timingSafeEqual(digest(Buffer.from(header.slice(5).trim(), 'base64').toString('utf8')), expected)
}
