// Grammar checks for what the plugin writes into a head itself, so that nothing a user passes can split a
// response or a part (RFC 9110 tokens and field values, RFC 2045/2046 media types and boundaries).

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Field values are written as latin1: visible ASCII, space, tab and obs-text; no CR, LF or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
const MEDIA_TYPE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+=(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t\x20-\x21\x23-\x5b\x5d-\x7e]|\\[\t\x20-\x7e])*"))*$/
// RFC 2046 boundary characters that may also stand unquoted in a parameter value (a token): the boundary is
// written without quotes because quoted boundaries break some clients.
const BOUNDARY = /^[0-9A-Za-z'+_\-.]+$/
// RFC 2046: a boundary is 1 to 70 of these, and does not end in a space. A longer one would make each look for a
// delimiter cost its length; other bytes would not survive a Content-Type header unquoted or quoted.
const MAX_BOUNDARY = 70
const NOT_BCHAR = /[^0-9A-Za-z'()+_,\-./:=? ]/

export function isToken (value: string): boolean {
  return TOKEN.test(value)
}

export function isFieldValue (value: string): boolean {
  return FIELD_VALUE.test(value)
}

/** `type/subtype` with optional `;name=value` parameters, e.g. `text/html; charset=utf-8`. */
export function isMediaType (value: string): boolean {
  return MEDIA_TYPE.test(value)
}

/** A media type's `type/subtype`, lower case, without parameters: what two spellings of one type share. */
export function essence (mediaType: string): string {
  return (mediaType.split(';')[0] as string).trim().toLowerCase()
}

/** Whether a media type is text/html, parameters or not. */
export function isHtml (mediaType: string): boolean {
  return essence(mediaType) === 'text/html'
}

/** Why `boundary` cannot be used as an unquoted multipart boundary, or `undefined` when it can. */
export function boundaryProblem (boundary: string): string | undefined {
  if (boundary.length < 1 || boundary.length > MAX_BOUNDARY) return `must be 1 to ${MAX_BOUNDARY} characters long (got ${boundary.length})`
  if (boundary.startsWith('--')) return 'must be given without the leading "--" of the delimiter line'
  if (!BOUNDARY.test(boundary)) {
    return 'may hold only letters, digits and \' + _ - . (no spaces, quotes or separators: it is written unquoted)'
  }
  return undefined
}

/** Why RFC 2046 forbids `boundary`, as a stream read back names it (quoted or not), or `undefined` when it may. */
export function rfc2046BoundaryProblem (boundary: string): string | undefined {
  if (boundary.length > MAX_BOUNDARY) return `the boundary is ${boundary.length} characters long; RFC 2046 allows at most ${MAX_BOUNDARY}`
  const wrong = NOT_BCHAR.exec(boundary)
  if (wrong !== null) return `the boundary holds ${JSON.stringify(wrong[0])}, which RFC 2046 does not allow in a boundary`
  if (boundary.endsWith(' ')) return 'the boundary ends in a space, which RFC 2046 does not allow'
  return undefined
}

/** The still-image types browsers show and never run: the part types `relay()` and `redisSource()` pass on by default
 * (frozen: both share it, and widening one source's types must not widen the other's). */
export const IMAGE_TYPES: readonly string[] = Object.freeze(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif'])

function isTypeList (value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((type) => typeof type === 'string' && isMediaType(type))
}

/**
 * A source's `types` option (the part types it passes on from an input it does not control) as the `essence`s it
 * allows; `invalid` makes the error thrown when it is not an array of media types.
 */
export function allowedTypes (types: unknown, invalid: (problem: string) => Error): ReadonlySet<string> {
  if (!isTypeList(types)) throw invalid('types must be an array of media types, such as [\'image/jpeg\']')
  return new Set(types.map(essence))
}
