// The command's paths, as the tools users already have ask for them: ustreamer's /stream, /snapshot and /state,
// mjpg-streamer's ?action=stream and ?action=snapshot (OctoPrint, Fluidd, crowsnest), at the root for one camera
// and below /<name>/ for several.

/** Names a camera cannot have: the paths of one camera, and the command's own, take them. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['stream', 'snapshot', 'state', 'metrics', 'signed-url'])

/** One camera's paths. */
export interface CameraPaths {
  /** Where its paths start: '' for the one camera, '/<name>' for one of several. */
  readonly base: string
  readonly stream: string
  readonly snapshot: string
  readonly state: string
}

/** The paths of camera `name`, one of `count`. */
export function cameraPaths (name: string, count: number): CameraPaths {
  const base = count === 1 ? '' : `/${name}`
  return { base, stream: `${base}/stream`, snapshot: `${base}/snapshot`, state: `${base}/state` }
}

const ACTIONS = new Set(['stream', 'snapshot'])

/**
 * The URL a request is served as: `<base>/?action=stream` (or `<base>?action=…`) as `<base>/stream`, with the rest of
 * its query kept (`?fps=`, a signature, which is checked against the URL as sent). Any other URL as it is.
 */
export function actionUrl (url: string): string {
  const query = url.indexOf('?')
  if (query === -1) return url
  const path = url.slice(0, query)
  const name = /^(?:\/([a-z0-9][a-z0-9_-]*))?\/?$/.exec(path)
  if (name === null || RESERVED_NAMES.has(name[1] ?? '')) return url
  const params = url.slice(query + 1).split('&')
  const at = params.findIndex((param) => param.startsWith('action=') && ACTIONS.has(param.slice(7)))
  if (at === -1) return url
  const action = (params[at] as string).slice(7)
  params.splice(at, 1)
  return `${path.replace(/\/$/, '')}/${action}${params.length === 0 ? '' : `?${params.join('&')}`}`
}
