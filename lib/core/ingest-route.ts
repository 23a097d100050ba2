// An ingest route: a publisher's request body (a camera or ffmpeg POSTing multipart/x-mixed-replace, or concatenated
// JPEGs) becomes the frames of a live source, which any push route showing that source serves to its viewers. One
// publisher per source at a time, authenticated unless the user says 'anonymous', cut when it breaks a limit or
// falls silent; the source is offline until a publisher's first frame, from the route's making and after each one.
import { basicCredentials, basicMatches } from './basic-auth.js'
import { checkKeys, checkNumber, invalidOption, isObject } from './check.js'
import { FST_SERVER_PUSH_BAD_INGEST, FST_SERVER_PUSH_INGEST_AUTH_FAILED, FST_SERVER_PUSH_INGEST_BUSY, FST_SERVER_PUSH_INGEST_TYPE, FST_SERVER_PUSH_INGEST_UNAUTHORIZED } from './errors.js'
import { events } from './events.js'
import type { Frame } from './frame.js'
import type { HeaderList } from './headers.js'
import { hubOf, isLiveSource, type LiveHub, type LiveSource } from './live/source.js'
import type { Logger } from './logger.js'
import { PartRate } from './part-rate.js'
import { errorResponse, unavailable, type PlainResponse } from './plain-response.js'
import type { AnyRequest } from './protocol.js'
import { isWholeJpeg, splitJpegs } from './read/jpeg.js'
import { boundaryOf, readMultipart } from './read/multipart.js'
import { allowedTypes, essence, IMAGE_TYPES, isMediaType } from './syntax.js'

/** Who may publish: a user and password (HTTP Basic), a check of the request, or, said in so many words, anyone. */
export type IngestAuth =
  | { readonly username: string, readonly password: string }
  | ((request: AnyRequest) => boolean | Promise<boolean>)
  | 'anonymous'

/** An ingest route's options. */
export interface IngestOptions {
  /** The live source the publisher's frames go to, push routes with it showing them: one of `createLiveSource()`,
   * not one with a producer of its own (`liveFrom()`, `fromCommand()`, `relay()`, `redisSource()`). */
  source: LiveSource
  /** Required: `{ username, password }` (Basic, compared in constant time), a function of the request that says
   * yes (true) or no, or `'anonymous'` to let anyone publish. */
  auth: IngestAuth
  /** How long a publisher may go without sending a whole frame before it is cut, in ms. Default 10000. */
  idleTimeoutMs?: number
  /** The largest frame a publisher may send, in bytes. Default 4 MiB. */
  maxFrameBytes?: number
  /** The most parts a publisher may send within a second (empty ones too). Default 1000. */
  maxPartsPerSecond?: number
  /** The part types a multipart publisher may send (type/subtype); a part with no type is taken only if it is a
   * whole JPEG, as `image/jpeg`. Default: `RELAYED_TYPES`, the still-image types browsers show. */
  types?: readonly string[]
}

const OPTION_KEYS = { source: true, auth: true, idleTimeoutMs: true, maxFrameBytes: true, maxPartsPerSecond: true, types: true } satisfies Record<keyof IngestOptions, true>

/** The keys of IngestOptions, every one: an adapter adds its own to them. */
export const INGEST_KEYS: readonly string[] = Object.keys(OPTION_KEYS)

/** The methods a publisher sends its stream with. */
export const INGEST_METHODS: readonly string[] = ['POST', 'PUT']

/** The realm a Basic challenge names. */
const REALM = 'server push ingest'

type AuthFunction = (request: AnyRequest) => boolean | Promise<boolean>
type CheckedAuth = Buffer | AuthFunction | 'anonymous'

/** A function, taken as the check of a request it is documented to be: what it returns is compared with true. */
function isAuthFunction (auth: unknown): auth is AuthFunction {
  return typeof auth === 'function'
}

function checkAuth (where: string, auth: unknown): CheckedAuth {
  if (auth === 'anonymous' || isAuthFunction(auth)) return auth
  // An empty password is no secret: anyone who knows the user name could publish.
  if (isObject(auth) && typeof auth.username === 'string' && typeof auth.password === 'string' && auth.username !== '' && !auth.username.includes(':') && auth.password !== '') {
    checkKeys(`${where} auth`, auth, new Set(['username', 'password']))
    return basicCredentials(auth.username, auth.password)
  }
  throw invalidOption(where, 'auth is required: { username, password } (a username without ":", a password not empty), a function (request) => boolean, or \'anonymous\' to let anyone publish')
}

/** An ingest route's options once checked, every default applied. */
export interface IngestSettings {
  readonly source: LiveSource
  readonly auth: CheckedAuth
  readonly idleTimeoutMs: number
  readonly maxFrameBytes: number
  readonly maxPartsPerSecond: number
  readonly types: ReadonlySet<string>
}

/** Checks an ingest route's options: an object with no key but `known`; throws FST_SERVER_PUSH_INVALID_OPTION naming `where`. */
export function checkIngestOptions (where: string, options: unknown, known: ReadonlySet<string>): IngestSettings {
  if (!isObject(options)) throw invalidOption(where, 'must be an object with a live source and auth')
  checkKeys(where, options, known)
  const { source } = options
  if (!isLiveSource(source)) throw invalidOption(where, 'ingest needs a live source of createLiveSource()')
  if (hubOf(source).hasProducer) {
    throw invalidOption(where, 'ingest needs a live source of createLiveSource(): this one has a producer of its own (liveFrom(), fromCommand(), relay(), redisSource()), and the publisher would be a second')
  }
  return {
    source,
    auth: checkAuth(where, options.auth),
    idleTimeoutMs: checkNumber(where, 'idleTimeoutMs', options.idleTimeoutMs, 1) ?? 10_000,
    maxFrameBytes: checkNumber(where, 'maxFrameBytes', options.maxFrameBytes, 1) ?? 4 * 1024 * 1024,
    maxPartsPerSecond: checkNumber(where, 'maxPartsPerSecond', options.maxPartsPerSecond, 1) ?? 1000,
    types: allowedTypes(options.types ?? IMAGE_TYPES, (problem) => invalidOption(where, problem))
  }
}

/** A coded error (of the status given: its own) as a refusal. */
function refused (status: number, error: Error & { code: string }, headers?: HeaderList): PlainResponse {
  return errorResponse(status, error.message, error.code, headers)
}

/** A publisher's body ended: 200 with the count of frames it published (a 204 may carry no Content-Length). */
function done (frames: number): PlainResponse {
  return { status: 200, headers: [], type: 'application/json; charset=utf-8', body: JSON.stringify({ frames }) }
}

/**
 * One ingest route, whatever the server: each publisher's request it is handed is checked (method, auth, type),
 * read into its live source, and answered; it claims the source for one publisher at a time, and cuts the
 * publishers being read when its server closes.
 */
export class IngestRoute {
  private readonly hub: LiveHub
  /** The publishers' requests being read, cut when the route closes. */
  private readonly publishers = new Set<AnyRequest>()
  private closing = false

  /** @param name how logs name the route (its URL). */
  constructor (private readonly settings: IngestSettings, private readonly log: Logger, private readonly name: string) {
    const hub = this.hub = hubOf(settings.source)
    // A source fed from outside has nothing to show until its first publisher's first frame: its viewers get the
    // offline part meanwhile, as after a publisher has gone, not a head and then nothing.
    if (hub.published === 0 && !hub.closed) hub.publisherGone()
  }

  /**
   * Reads a publisher's request into the source, and says what to answer once it is over: 200 with the count of
   * frames when its body ended, a refusal (401, 405, 409, 415, 503; 500 when the auth function failed) at once
   * without reading it, 400 when it broke a rule. Never rejects.
   */
  async receive (req: AnyRequest): Promise<PlainResponse> {
    if (!INGEST_METHODS.includes(String(req.method))) {
      return errorResponse(405, 'An ingest route takes POST or PUT', undefined, [['Allow', INGEST_METHODS.join(', ')]])
    }
    let allowed: boolean
    try {
      allowed = await this.allowed(req)
    } catch (err) {
      // The check failed, not the publisher: a coded refusal that closes the connection, so that Node reads no
      // more of an endless body, where an error left to the server would be a 500 that keeps it open.
      this.log.error({ route: this.name, err }, 'server push ingest: auth failed')
      return refused(500, new FST_SERVER_PUSH_INGEST_AUTH_FAILED())
    }
    if (!allowed) {
      return refused(401, new FST_SERVER_PUSH_INGEST_UNAUTHORIZED(), [['WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`]])
    }
    const { hub } = this
    if (this.closing || hub.closed) {
      return unavailable('The ingest route is closing')
    }
    if (hub.fedFromOutside) return refused(409, new FST_SERVER_PUSH_INGEST_BUSY())
    const type = req.headers['content-type'] ?? ''
    // ffmpeg's HTTP output sends no Content-Type: such a body (or an octet-stream) shows what it is (sniffed).
    const multipart = /^multipart\/(x-mixed-replace|mixed)\s*(;|$)/i.test(type)
    const boundary = multipart ? boundaryOf(type) : undefined
    if (multipart ? boundary === undefined : !(type === '' || /^(image\/jpeg|application\/octet-stream)\s*(;|$)/i.test(type))) {
      return refused(415, new FST_SERVER_PUSH_INGEST_TYPE(JSON.stringify(type)))
    }
    return await this.publish(req, boundary)
  }

  /** Cuts the publishers being read, and refuses any more: the server can close. */
  close (): void {
    this.closing = true
    for (const req of this.publishers) req.destroy(new FST_SERVER_PUSH_BAD_INGEST('the server is closing'))
  }

  private async allowed (req: AnyRequest): Promise<boolean> {
    const { auth } = this.settings
    if (auth === 'anonymous') return true
    if (typeof auth === 'function') return await auth(req) === true
    return basicMatches(req.headers.authorization, auth)
  }

  /** The publisher's frames into the source until its body ends or it fails; the source is offline after. */
  private async publish (req: AnyRequest, boundary: string | undefined): Promise<PlainResponse> {
    const { settings, hub, log } = this
    const about = hub.about()
    let peer: string | undefined
    let frames = 0
    let idle: NodeJS.Timeout | undefined
    let answer: PlainResponse
    try {
      // Claimed inside the try: whatever throws from here on (a logger, say), the finally frees the source, which
      // would otherwise refuse every publisher to come (409).
      hub.fedFromOutside = true
      this.publishers.add(req)
      // An HTTP/2 request's socket throws once its session is gone.
      peer = req.socket.remoteAddress
      log.info({ route: this.name, peer }, 'server push ingest: publisher connected')
      if (events.sourceStart.hasSubscribers) events.sourceStart.publish(about)
      // One timer per publisher, pushed back by each whole frame: a publisher dripping bytes is cut too.
      idle = setTimeout(() => {
        req.destroy(new FST_SERVER_PUSH_BAD_INGEST(`no whole frame for ${settings.idleTimeoutMs} ms`))
      }, settings.idleTimeoutMs)
      const rate = new PartRate(settings.maxPartsPerSecond)
      for await (const frame of this.frames(req, boundary)) {
        if (!rate.count()) throw new FST_SERVER_PUSH_BAD_INGEST(`more than ${settings.maxPartsPerSecond} parts within a second (maxPartsPerSecond)`)
        if (frame === undefined) continue
        hub.publish(frame)
        frames++
        idle.refresh()
      }
      log.info({ route: this.name, peer, frames }, 'server push ingest: publisher ended')
      if (events.sourceStop.hasSubscribers) events.sourceStop.publish(about)
      answer = done(frames)
    } catch (caught) {
      const error = ingestError(caught)
      log.warn({ route: this.name, peer, frames, err: error }, 'server push ingest: publisher cut')
      if (events.sourceFail.hasSubscribers) events.sourceFail.publish({ ...about, error })
      answer = refused(400, error)
    } finally {
      clearTimeout(idle)
      this.publishers.delete(req)
      hub.fedFromOutside = false
      if (!hub.closed) hub.publisherGone()
    }
    return answer
  }

  /** The body's frames; undefined for a part that carries none (empty), which still counts against the rate. */
  private async * frames (req: AnyRequest, boundary: string | undefined): AsyncGenerator<Frame | undefined> {
    const { maxFrameBytes, types } = this.settings
    let input: AsyncIterable<Uint8Array> = req
    if (boundary === undefined && !/^image\/jpeg/i.test(req.headers['content-type'] ?? '')) ({ input, boundary } = await sniff(req))
    if (boundary === undefined) {
      yield * splitJpegs(input, { maxFrameBytes })
      return
    }
    for await (const part of readMultipart(input, boundary, { maxPartBytes: maxFrameBytes })) {
      if (part.body.length === 0) {
        yield undefined
        continue
      }
      // A part with no type would go out as the route's, unchecked (a publisher's script on a route of HTML
      // pages): only a whole JPEG shows what it is without one.
      const contentType = part.headers['content-type'] ?? (isWholeJpeg(part.body) ? 'image/jpeg' : undefined)
      if (contentType === undefined) throw new FST_SERVER_PUSH_BAD_INGEST('a part with no Content-Type that is not a whole JPEG')
      if (!isMediaType(contentType) || !types.has(essence(contentType))) throw new FST_SERVER_PUSH_BAD_INGEST(`a part of type ${JSON.stringify(contentType)}, which types does not allow`)
      yield { body: part.body, contentType }
    }
  }
}

/** The longest first line of a multipart body sniffed: `--`, a boundary of at most 70 characters, padding. */
const MAX_FIRST_LINE = 128

/**
 * A body without a type, as it shows itself: a multipart stream (its first line, after any line ends, is `--` and
 * the boundary, as ffmpeg's mpjpeg writes) or else JPEGs; `input` is the whole body, the bytes read to tell included.
 */
async function sniff (body: AsyncIterable<Uint8Array>): Promise<{ input: AsyncIterable<Uint8Array>, boundary: string | undefined }> {
  const iterator = body[Symbol.asyncIterator]()
  let seen = Buffer.alloc(0)
  let ended = false
  let boundary: string | undefined
  for (;;) {
    const text = seen.toString('latin1').replace(/^[\r\n]+/, '')
    if (text !== '' && !text.startsWith('--'.slice(0, text.length))) break
    const line = /^--[^\r\n]*\r?\n/.exec(text)
    if (line !== null) {
      boundary = line[0].slice(2).trim()
      break
    }
    // Bounded by what was read, line ends included: a body of nothing but line ends is not held whole.
    if (seen.length > MAX_FIRST_LINE) break
    const next = await iterator.next()
    if (next.done === true) {
      ended = true
      break
    }
    seen = Buffer.concat([seen, next.value])
  }
  const first = seen
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator }
  async function * input (): AsyncGenerator<Uint8Array> {
    if (first.length > 0) yield first
    if (!ended) yield * rest
  }
  return { input: input(), boundary: boundary === '' ? undefined : boundary }
}

/** What a publisher's failure is reported as: our own coded error (a rule broken, the idle timer's or close()'s
 * destroy), or one saying what the reader or the connection found. */
function ingestError (caught: unknown): Error & { code: string } {
  if (caught instanceof FST_SERVER_PUSH_BAD_INGEST) return caught
  // The readers and Node's streams throw Errors; anything else would be said as it is.
  /* c8 ignore next */
  return new FST_SERVER_PUSH_BAD_INGEST(caught instanceof Error ? caught.message : String(caught))
}
