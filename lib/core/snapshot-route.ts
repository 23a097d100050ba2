// The snapshot route of a live source: its latest frame as one plain response (an IP camera's /video.jpg). Its
// options, their check and their defaults are here once, for every server adapter.
import { noop } from './async.js'
import { checkKeys, checkNumber, invalidOption, isObject } from './check.js'
import { sentBody } from './frame.js'
import type { HeaderRecord } from './headers.js'
import { A_LIVE_SOURCE, hubOf, isLiveSource, type LiveHub, type LiveSource } from './live/source.js'
import type { Logger } from './logger.js'
import { offlineHeaders, printableTime } from './offline.js'
import { errorResponse, unavailable, type PlainResponse } from './plain-response.js'
import { forProtocol, protocolOf, unsupportedVersion, type AnyRequest } from './protocol.js'
import { checkSettings, resolveSettings, type CheckedSettings, type PushSettings, type RouteSettings } from './settings.js'
import { requireSignature } from './signed-url.js'

/** A snapshot route's options: the live source whose latest frame it answers, and how. */
export interface SnapshotOptions {
  /** The live source whose latest frame the route answers. */
  source: LiveSource
  /** How long a request waits for a first frame before it is answered 503, in ms. Default 5000. */
  snapshotTimeoutMs?: number
  /** Content-Type of a frame that carries none. Default: the plugin's (under Fastify), else `image/jpeg`. */
  contentType?: string
  /** Whether a JPEG frame without Huffman tables gets the standard ones (see PushSettings). Default: the plugin's, else true. */
  jpegHuffmanTables?: boolean
  /** Extra response headers, over the plugin's. */
  headers?: HeaderRecord
  /** Requires a signed URL (see PushSettings); `false`: none, whatever the plugin's. Default: the plugin's, else none. */
  signingKeys?: PushSettings['signingKeys']
}

const OPTION_KEYS = { source: true, snapshotTimeoutMs: true, contentType: true, jpegHuffmanTables: true, headers: true, signingKeys: true } satisfies Record<keyof SnapshotOptions, true>

/** The keys of SnapshotOptions, every one: an adapter adds its own to them. */
export const SNAPSHOT_KEYS: readonly string[] = Object.keys(OPTION_KEYS)

/** A snapshot route's options once checked, every default applied. */
export interface SnapshotSettings extends Pick<RouteSettings, 'contentType' | 'plainHeaders' | 'jpegHuffmanTables' | 'signingKeys'> {
  readonly source: LiveSource
  /** How long a request waits for a first frame before it is answered 503, in ms. */
  readonly timeoutMs: number
}

/**
 * Checks a snapshot route's options: an object with no key but `known`, a live source and its settings; returns
 * them over `defaults` (the plugin's). Throws FST_SERVER_PUSH_INVALID_OPTION naming `where`.
 */
export function checkSnapshotOptions (where: string, options: unknown, known: ReadonlySet<string>, defaults: CheckedSettings = {}): SnapshotSettings {
  if (!isObject(options)) throw invalidOption(where, 'must be an object with a live source')
  checkKeys(where, options, known)
  const { source } = options
  if (!isLiveSource(source)) throw invalidOption(where, `snapshot needs ${A_LIVE_SOURCE}`)
  const timeoutMs = checkNumber(where, 'snapshotTimeoutMs', options.snapshotTimeoutMs, 0) ?? 5000
  // The keys are checked: of the settings, only a snapshot's own can be there.
  const { contentType, plainHeaders, jpegHuffmanTables, signingKeys } = resolveSettings(checkSettings(where, options), defaults)
  return { source, timeoutMs, contentType, plainHeaders, jpegHuffmanTables, signingKeys }
}

/** How long a snapshot client of an offline source waits before asking again, in seconds. */
const OFFLINE_RETRY_AFTER_S = 5

/** 503 for a source that is offline, saying since when. */
function offlineAnswer (since: number): PlainResponse {
  return errorResponse(503, `The source is offline since ${printableTime(since)}`, undefined,
    [['Retry-After', String(OFFLINE_RETRY_AFTER_S)], ...offlineHeaders(since)])
}

export class SnapshotRoute {
  private closing = false
  /** Requests waiting for a first frame, woken when the route closes. */
  private readonly waiters = new Set<() => void>()
  private readonly hub: LiveHub

  /** @param name how events name the route (its URL), and its source if no push route shows it. */
  constructor (private readonly settings: SnapshotSettings, log: Logger, private readonly name: string) {
    this.hub = hubOf(settings.source)
    this.hub.adopt(log, name, false)
  }

  /**
   * The latest frame, or the next one within the timeout, or 503 (with X-Offline while the source is offline: a
   * picture saying so would be kept as the camera's); 505 for a version its connection cannot carry. Rejects
   * with FST_SERVER_PUSH_BAD_SIGNATURE (403) a URL not signed as `signingKeys` requires.
   */
  async answer (req: AnyRequest): Promise<PlainResponse> {
    const protocol = protocolOf(req)
    if (protocol === undefined) return unsupportedVersion(req)
    const { settings, hub } = this
    // Before the source is held: an unsigned request starts no producer.
    requireSignature(settings.signingKeys, req, this.name)
    // Holding the source while waiting starts a liveFrom() producer that nobody is watching yet.
    hub.acquire()
    try {
      // An offline source's latest frame is stale, and one waited for is answered as soon as it goes offline.
      const frame = hub.offlineSince === undefined ? hub.latest ?? await hub.nextFrame(settings.timeoutMs, this.whenClosing) : undefined
      const { offlineSince } = hub
      if (offlineSince !== undefined) return forProtocol(offlineAnswer(offlineSince), protocol)
      if (frame === undefined) return forProtocol(unavailable('No frame has been published yet'), protocol)
      // A response finished while the server closes must not leave a keep-alive connection that close() waits for.
      const closing: PlainResponse['headers'] = this.closing ? [['Connection', 'close']] : []
      const type = frame.contentType ?? settings.contentType
      // Every frame's headers were checked on its way in (checkFrame, decodeMessage): labels only, never a cookie,
      // caching or framing, so they go on the head as they are.
      const response: PlainResponse = {
        status: 200,
        headers: [...settings.plainHeaders, ...frame.headers, ...frame.extra, ...closing],
        type,
        body: sentBody(frame.body, type, settings.jpegHuffmanTables)
      }
      return forProtocol(response, protocol)
    } finally {
      hub.release()
    }
  }

  /** Wakes the requests still waiting for a first frame: they are answered at once. */
  close (): void {
    this.closing = true
    for (const wake of this.waiters) wake()
  }

  private readonly whenClosing = (wake: () => void): () => void => {
    if (this.closing) {
      queueMicrotask(wake)
      return noop
    }
    this.waiters.add(wake)
    return () => this.waiters.delete(wake)
  }
}
