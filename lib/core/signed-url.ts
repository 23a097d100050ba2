// Signed, expiring URLs: `signUrl()` makes one, and a route with `signingKeys` lets a stream or snapshot start only
// for one of them. An <img src> cannot send an Authorization header, so the URL itself carries the proof: its
// expiry and an HMAC-SHA256, by a key the server holds, of the method, the path and query, and that expiry.
//
// The scheme (the README's, so that any language can sign): the URL is `<path>?<query>&expires=<epoch seconds>`
// (`?expires=` with no query), then `&signature=<base64url of HMAC-SHA256(key, "GET\n" + that URL)>`, no padding.
// `signature` is last and `expires` just before it: anything added after signing breaks the signature.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { checkKeys, invalidOption, isObject } from './check.js'
import { FST_SERVER_PUSH_BAD_SIGNATURE } from './errors.js'
import { events } from './events.js'
import type { AnyRequest } from './protocol.js'

/** A signing key: a string (its UTF-8 bytes) or bytes, at least 32 bytes (256 bits, HMAC-SHA256's own size). */
export type SigningKey = string | Uint8Array

/** `signUrl()`'s options. */
export interface SignUrlOptions {
  /** The key the route's `signingKeys` holds. */
  key: SigningKey
  /** How long the URL opens a stream or snapshot, in seconds from now; a stream opened in time is not cut at expiry. */
  expiresIn: number
  /** The method the URL is for; HEAD is checked as GET. Default GET. */
  method?: 'GET'
}

/** The fewest bytes a key may have. */
export const MIN_KEY_BYTES = 32

/** A signature's length: 32 bytes in base64url, without padding. */
const SIGNATURE_CHARS = 43

const SIGNATURE_PARAM = '&signature='

/** The most digits an expiry has: seconds until the year 33658, and a number no parser rounds. */
const EXPIRES_DIGITS = 12

/** The signed part's end: the expiry, its last parameter. */
const EXPIRES_AT_END = new RegExp(`[?&]expires=(\\d{1,${EXPIRES_DIGITS}})$`)

/**
 * Characters a browser sends as they are written, in a path and in a query alike: visible ASCII but for those it
 * percent-encodes (`"<>^{}'` and the backquote), turns into `/` (a backslash) or never sends (`#`). A URL signed with any other would
 * be sent otherwise, and refused.
 */
const SENT_AS_WRITTEN = /^\/[!$%&()*+,\-./0-9:;=?@A-Z[\]_a-z|~]*$/

/**
 * What a browser changes before it sends a path, or reads as another host: a dot segment (`/a/../b`, `/./b`,
 * `%2e` too), which it resolves away, and a leading `//`, which names a host. A URL signed with one would be
 * refused, or lead elsewhere.
 */
const NOT_SENT_AS_IS = /^\/\/|^[^?]*\/(?:\.|%2e){1,2}(?:[/?]|$)/i

const OPTION_KEYS = { key: true, expiresIn: true, method: true } satisfies Record<keyof SignUrlOptions, true>

/** A key's bytes; throws FST_SERVER_PUSH_INVALID_OPTION naming `where` and `name`, never the key. */
function keyBytes (where: string, name: string, key: unknown): Buffer {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw invalidOption(where, `${name} must be a string or bytes (a Buffer), got ${key === null ? 'null' : typeof key}`)
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key)
  if (bytes.length < MIN_KEY_BYTES) {
    throw invalidOption(where, `${name} must have at least ${MIN_KEY_BYTES} bytes (crypto.randomBytes(32).toString('base64url') makes one), got ${bytes.length}`)
  }
  return bytes
}

/**
 * The `signingKeys` setting checked: undefined (not set), false (none: a default turned off) or the keys' bytes.
 * Throws FST_SERVER_PUSH_INVALID_OPTION naming `where`, never a key.
 */
export function checkSigningKeys (where: string, value: unknown): readonly Buffer[] | false | undefined {
  if (value === undefined || value === false) return value
  if (!Array.isArray(value)) return [keyBytes(where, 'signingKeys', value)]
  if (value.length === 0) throw invalidOption(where, 'signingKeys must hold at least one key (or be false for none)')
  return value.map((key: unknown, i) => keyBytes(where, `signingKeys[${i}]`, key))
}

/** The signature of `signed` (the URL up to `&signature=`) for `method`, as the URL carries it. */
function signatureOf (key: Buffer, method: string, signed: string): string {
  return createHmac('sha256', key).update(`${method}\n${signed}`).digest('base64url')
}

/** The parameters of the query of `target` (everything after its first `?`), decoded. */
function paramsOf (target: string): URLSearchParams {
  const at = target.indexOf('?')
  return new URLSearchParams(at === -1 ? '' : target.slice(at + 1))
}

/**
 * `path` (a path and an optional query, as the page will request it: `/cam.mjpg?fps=5`) signed with `key` until
 * `expiresIn` seconds from now: `path` with `expires` and `signature` added at the end. Throws
 * FST_SERVER_PUSH_INVALID_OPTION on a key shorter than 32 bytes, a path that does not start with "/", holds a
 * character a browser would not send as it is, or already has `expires` or `signature`.
 */
export function signUrl (path: string, options: SignUrlOptions): string {
  const where = 'signUrl()'
  if (typeof path !== 'string' || !SENT_AS_WRITTEN.test(path) || NOT_SENT_AS_IS.test(path)) {
    throw invalidOption(where, 'path must start with one "/" and hold only what a browser sends as it is (percent-encode the rest; no #fragment, no . or .. segment)')
  }
  if (!isObject(options)) throw invalidOption(where, 'options must be an object with key and expiresIn')
  checkKeys(where, options, new Set(Object.keys(OPTION_KEYS)))
  const key = keyBytes(where, 'key', options.key)
  const { expiresIn, method = 'GET' } = options
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw invalidOption(where, `expiresIn must be a number of seconds > 0, got ${String(expiresIn)}`)
  }
  if (method !== 'GET') throw invalidOption(where, `method must be "GET" (HEAD is checked as GET), got ${JSON.stringify(method)}`)
  const params = paramsOf(path)
  if (params.has('expires') || params.has('signature')) throw invalidOption(where, 'path already has an expires or signature parameter')
  const expires = Math.ceil(Date.now() / 1000 + expiresIn)
  if (String(expires).length > EXPIRES_DIGITS) throw invalidOption(where, `expiresIn must end before the year 33658, got ${expiresIn}`)
  const signed = `${path}${path.includes('?') ? '&' : '?'}expires=${expires}`
  return `${signed}${SIGNATURE_PARAM}${signatureOf(key, method, signed)}`
}

/**
 * Why the request target `target` of a `method` request does not open a route whose keys are `keys`, or undefined
 * when it does: signed by one of them, unchanged since, and not expired at `now` (ms).
 */
export function signatureProblem (target: string, method: string, keys: readonly Buffer[], now: number): string | undefined {
  const at = target.lastIndexOf(SIGNATURE_PARAM)
  if (at === -1) return 'this URL must be signed (expires and signature, last in its query)'
  const invalid = 'the URL\'s signature is not valid'
  const signed = target.slice(0, at)
  const signature = Buffer.from(target.slice(at + SIGNATURE_PARAM.length))
  // A signature of another length (truncated, or followed by parameters added since) is refused before comparing.
  const expires = EXPIRES_AT_END.exec(signed)
  if (signature.length !== SIGNATURE_CHARS || expires === null) return invalid
  const params = paramsOf(signed)
  if (!signed.includes('?') || params.getAll('expires').length !== 1 || params.has('signature')) return invalid
  const signedAs = method === 'HEAD' ? 'GET' : method
  // Every key compared, in constant time: how long a refusal takes says nothing of which key came close. The
  // signatures are compared as the URL writes them: base64url leaves two bits of its last character unused,
  // which decoding would let a client change at will.
  let valid = false
  for (const key of keys) valid = timingSafeEqual(Buffer.from(signatureOf(key, signedAs, signed)), signature) || valid
  if (!valid) return invalid
  return Number(expires[1]) * 1000 <= now ? 'the signed URL has expired' : undefined
}

/**
 * Lets `req` go on when `keys` is undefined (the route takes any URL) or its URL is signed by one of them; else
 * publishes the refusal (`route` names the route) and throws FST_SERVER_PUSH_BAD_SIGNATURE (403).
 */
export function requireSignature (keys: readonly Buffer[] | undefined, req: AnyRequest, route: string): void {
  if (keys === undefined) return
  // The URL as the client sent it: Express's routers cut their mount path off req.url, and Fastify's rewriteUrl
  // replaces it; both keep the original in originalUrl. Signed with the mount's path cut, one URL would open the
  // same handler's path under every mount. A server's request always has its target and method; String() is for
  // Node's types, which allow none.
  const target = 'originalUrl' in req && typeof req.originalUrl === 'string' ? req.originalUrl : String(req.url)
  const problem = signatureProblem(target, String(req.method), keys, Date.now())
  if (problem === undefined) return
  if (events.viewerRefuse.hasSubscribers) events.viewerRefuse.publish({ route, request: req, reason: 'signature', status: 403 })
  throw new FST_SERVER_PUSH_BAD_SIGNATURE(problem)
}
