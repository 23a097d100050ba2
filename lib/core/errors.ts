// Every coded error the package throws, in one list: a program tells them apart by `code`, and Fastify and Express
// answer them with their `statusCode`. The entries export them all.
import createError from '@fastify/error'
import { FRAMING_NAMES } from './framing.js'

/** A plugin, route or factory option is wrong; the message names where (the route, or the factory) and the field.
 * Thrown by `register`, or by the factory given it (`relay()`, `fromCommand()`, `liveFrom()`...). */
export const FST_SERVER_PUSH_INVALID_OPTION = createError<'FST_SERVER_PUSH_INVALID_OPTION', [string]>(
  'FST_SERVER_PUSH_INVALID_OPTION',
  'Invalid server push option: %s',
  500,
  TypeError
)

/** `fromFiles()` / `fromDirectory()` input is missing, empty or unreadable. Thrown by `register`. */
export const FST_SERVER_PUSH_INVALID_SOURCE = createError<'FST_SERVER_PUSH_INVALID_SOURCE', [string]>(
  'FST_SERVER_PUSH_INVALID_SOURCE',
  'Invalid server push source: %s'
)

/** A source produced something that is not a frame; the stream is closed and the error logged. */
export const FST_SERVER_PUSH_BAD_FRAME = createError<'FST_SERVER_PUSH_BAD_FRAME', [string]>(
  'FST_SERVER_PUSH_BAD_FRAME',
  'Bad server push frame: %s',
  500,
  TypeError
)

/** A response header set by a hook cannot be written as is (CR, LF or another control character). */
export const FST_SERVER_PUSH_INVALID_HEADER = createError<'FST_SERVER_PUSH_INVALID_HEADER', [string]>(
  'FST_SERVER_PUSH_INVALID_HEADER',
  'Invalid response header for server push: %s',
  500
)

/** `publish()` was called on a live source after `close()`. */
export const FST_SERVER_PUSH_SOURCE_CLOSED = createError<'FST_SERVER_PUSH_SOURCE_CLOSED', []>(
  'FST_SERVER_PUSH_SOURCE_CLOSED',
  'The live source is closed: it takes no more frames'
)

/** A request's `?framing=` names no framing (FramingName); it is answered 400 with this error. */
export const FST_SERVER_PUSH_BAD_FRAMING = createError<'FST_SERVER_PUSH_BAD_FRAMING', [string]>(
  'FST_SERVER_PUSH_BAD_FRAMING',
  `framing must be ${FRAMING_NAMES.join(' or ')}, got %s`,
  400
)

/**
 * A request's `?fps=` is not one decimal number of at least the least rate a viewer may ask for (the first
 * argument); it is answered 400 with this error.
 */
export const FST_SERVER_PUSH_BAD_FPS = createError<'FST_SERVER_PUSH_BAD_FPS', [number, string]>(
  'FST_SERVER_PUSH_BAD_FPS',
  'fps must be a decimal number of parts a second, at least %s, got %s',
  400
)

/** A multipart stream read by `readMultipart()` (or a relay) is malformed, exceeds a limit, or ends mid-part. */
export const FST_SERVER_PUSH_BAD_MULTIPART = createError<'FST_SERVER_PUSH_BAD_MULTIPART', [string]>(
  'FST_SERVER_PUSH_BAD_MULTIPART',
  'Bad multipart stream: %s'
)

/** A JPEG stream split by `splitJpegs()` (or a command source) holds a frame over its size limit. */
export const FST_SERVER_PUSH_BAD_JPEG = createError<'FST_SERVER_PUSH_BAD_JPEG', [string]>(
  'FST_SERVER_PUSH_BAD_JPEG',
  'Bad JPEG stream: %s'
)

/** A frame over `publishToRedis()`'s `maxFrameBytes`: `publish()` throws it, and no viewer anywhere gets the frame. */
export const FST_SERVER_PUSH_FRAME_TOO_LARGE = createError<'FST_SERVER_PUSH_FRAME_TOO_LARGE', [number, number]>(
  'FST_SERVER_PUSH_FRAME_TOO_LARGE',
  'The frame has %d bytes, over the %d that publishToRedis() takes (maxFrameBytes)',
  500,
  RangeError
)

/**
 * A route with `signingKeys` was asked for a stream or snapshot by a URL that is not signed, not validly signed
 * (another path, a changed expiry or query, a wrong key) or expired; it is answered 403 with this error. The
 * message says which, never a key or the signature expected.
 */
export const FST_SERVER_PUSH_BAD_SIGNATURE = createError<'FST_SERVER_PUSH_BAD_SIGNATURE', [string]>(
  'FST_SERVER_PUSH_BAD_SIGNATURE',
  'Forbidden: %s',
  403
)

/** An ingest route was sent a publisher's stream while another publisher feeds its source; answered 409 at once,
 * the body unread. */
export const FST_SERVER_PUSH_INGEST_BUSY = createError<'FST_SERVER_PUSH_INGEST_BUSY', []>(
  'FST_SERVER_PUSH_INGEST_BUSY',
  'Another publisher is feeding this source; try again once it has ended',
  409
)

/** An ingest route was sent a publisher's stream without the credentials its `auth` requires; answered 401. */
export const FST_SERVER_PUSH_INGEST_UNAUTHORIZED = createError<'FST_SERVER_PUSH_INGEST_UNAUTHORIZED', []>(
  'FST_SERVER_PUSH_INGEST_UNAUTHORIZED',
  'Unauthorized: this ingest route needs credentials',
  401
)

/** An ingest route was sent a body that is neither multipart nor JPEG; answered 415. */
export const FST_SERVER_PUSH_INGEST_TYPE = createError<'FST_SERVER_PUSH_INGEST_TYPE', [string]>(
  'FST_SERVER_PUSH_INGEST_TYPE',
  'An ingest route takes multipart/x-mixed-replace, multipart/mixed (with a boundary) or image/jpeg, got %s',
  415
)

/** A publisher's stream broke a rule (malformed, a frame too large, too many parts, a type not allowed, silent
 * for idleTimeoutMs); it is cut, logged, and answered 400 if it can still be. */
export const FST_SERVER_PUSH_BAD_INGEST = createError<'FST_SERVER_PUSH_BAD_INGEST', [string]>(
  'FST_SERVER_PUSH_BAD_INGEST',
  'Bad ingest stream: %s',
  400
)

/** An ingest route's `auth` function threw (or its promise rejected): the publisher is answered 500 with this
 * error, the connection closed, and the error logged. */
export const FST_SERVER_PUSH_INGEST_AUTH_FAILED = createError<'FST_SERVER_PUSH_INGEST_AUTH_FAILED', []>(
  'FST_SERVER_PUSH_INGEST_AUTH_FAILED',
  'The ingest route could not check the credentials: its auth function failed',
  500
)

/** The command (`npx fastify-server-push`) was given an option or a config file it cannot run with: it says so in
 * one line and exits with status 2. */
export const FST_SERVER_PUSH_COMMAND_USAGE = createError<'FST_SERVER_PUSH_COMMAND_USAGE', [string]>(
  'FST_SERVER_PUSH_COMMAND_USAGE',
  '%s'
)

/** The command, run with `--user` and `--password`, was sent a request without them; answered 401. */
export const FST_SERVER_PUSH_UNAUTHORIZED = createError<'FST_SERVER_PUSH_UNAUTHORIZED', []>(
  'FST_SERVER_PUSH_UNAUTHORIZED',
  'Unauthorized: this server needs a user and password',
  401
)
