// The snapshot route of a live source: its latest frame as one plain response (an IP camera's /video.jpg).
import { noop } from './async.js'
import { checkNumber } from './check.js'
import { sentBody } from './frame.js'
import { hubOf, type LiveHub, type LiveSource } from './live/source.js'
import type { Logger } from './logger.js'
import { forProtocol, unavailable, type PlainResponse } from './plain-response.js'
import { protocolOf, unsupportedVersion, type AnyRequest } from './protocol.js'
import type { RouteSettings } from './settings.js'

export class SnapshotRoute {
  private closing = false
  /** Requests waiting for a first frame, woken when the route closes. */
  private readonly waiters = new Set<() => void>()
  private readonly timeoutMs: number
  private readonly source: LiveHub

  /** `timeoutMs`: how long a request waits for a first frame before it is answered 503 (default 5000). */
  constructor (
    source: LiveSource,
    private readonly settings: Pick<RouteSettings, 'contentType' | 'plainHeaders' | 'jpegHuffmanTables'>,
    where: string,
    timeoutMs: unknown,
    log: Logger
  ) {
    this.timeoutMs = checkNumber(where, 'snapshotTimeoutMs', timeoutMs, 0) ?? 5000
    this.source = hubOf(source)
    this.source.adoptLog(log)
  }

  /** The latest frame, or the next one within the timeout, or 503; 505 for a version its connection cannot carry. */
  async answer (req: AnyRequest): Promise<PlainResponse> {
    const protocol = protocolOf(req)
    if (protocol === undefined) return unsupportedVersion(req)
    const { source, settings } = this
    // Holding the source while waiting starts a liveFrom() producer that nobody is watching yet.
    source.acquire()
    try {
      const frame = source.latest ?? await source.nextFrame(this.timeoutMs, this.whenClosing)
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
      source.release()
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
