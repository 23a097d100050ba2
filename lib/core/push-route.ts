// One push route, on whatever server: answers each request with a stream, or with the plain response that stands
// in for one, and ends its streams when it closes. A server adapter (Fastify, node:http) hands each request over
// as a PushExchange.
import { noop } from './async.js'
import { RouteCounters, type RouteStats } from './counters.js'
import { FST_SERVER_PUSH_INVALID_HEADER } from './errors.js'
import { events, type RefuseReason } from './events.js'
import { checkKeys, invalidOption } from './check.js'
import { openFeed, sourceProblem, type Feed, type Source } from './feed.js'
import { profileClient, pushQuery, type ProfiledRoute } from './client-profile.js'
import { framing } from './framing.js'
import { mergeHeaders, RESPONSE_RESERVED, toHeaderList } from './headers.js'
import type { Logger } from './logger.js'
import { OpenStreams } from './open-streams.js'
import { unavailable, type PlainResponse } from './plain-response.js'
import { forProtocol, protocolOf, pushStreamsOn, startResponse, unsupportedVersion, type AnyRequest, type AnyResponse, type ProtocolVersion } from './protocol.js'
import { READER_PAGE } from './reader-page.js'
import { requireSignature } from './signed-url.js'
import { checkSettings, idleRepeatFor, type CheckedSettings, type PushSettings, type RouteSettings } from './settings.js'
import type { PushStream, StreamRoute } from './stream.js'

/** One push route's options: where its frames come from, and its settings. */
export interface PushOptions<Request = unknown> extends PushSettings {
  source: Source<Request>
}

/**
 * Checks a push route's options once the caller has checked it is an object: no key but `known`, a source, and
 * the settings; returns its own settings. Throws FST_SERVER_PUSH_INVALID_OPTION naming `where`.
 */
export function checkPushOptions (where: string, options: Record<string, unknown>, known: ReadonlySet<string>): CheckedSettings {
  checkKeys(where, options, known)
  const problem = sourceProblem(options.source)
  if (problem !== undefined) throw invalidOption(where, problem)
  return checkSettings(where, options)
}

/** One request to a push route, as a server adapter hands it over. */
export interface PushExchange<Request> {
  /** The request as its server handed it over: node:http's, or node:http2's compatibility API's. */
  readonly req: AnyRequest
  /** Its response: node:http's, or node:http2's compatibility API's. */
  readonly res: AnyResponse
  /** What a source function gets as `request`. */
  readonly request: Request
  readonly log: Logger
  /** Response headers set before the route answers (hooks, middleware): they override the route's own. */
  presetHeaders (): Readonly<Record<string, unknown>>
  /** Sends a plain response. */
  answer (response: PlainResponse): void
  /** Tells the framework the route writes this response itself from now on (Fastify: `reply.hijack()`). */
  takeOver (): void
}

function invalidHeader (problem: string): Error {
  return new FST_SERVER_PUSH_INVALID_HEADER(problem)
}

/**
 * A route once its source is known: its feed, what its clients' profiles depend on, its streams' settings, and
 * its open streams.
 */
interface ReadyRoute<Request> {
  readonly feed: Feed<Request>
  readonly profiled: ProfiledRoute
  readonly route: StreamRoute
  readonly streams: OpenStreams
}

export class PushRoute<Request> {
  readonly counters = new RouteCounters()
  /** The route's stats as its route:open and route:close events carry them: one function, by which a subscriber
   * tells this route from others of its URL. */
  private readonly stats = (): RouteStats => this.counters.read()
  /** Settles once the source is ready (files read); rejects with FST_SERVER_PUSH_INVALID_SOURCE. */
  readonly ready: Promise<void>
  private opened: ReadyRoute<Request> | undefined
  private closing = false

  constructor (readonly path: string, source: Source<Request>, private readonly settings: RouteSettings, log: Logger) {
    this.ready = openFeed(source, path, settings, log).then((feed) => this.open(feed))
    // Whoever serves the route awaits `ready`; a request that comes first gets the error then.
    this.ready.catch(noop)
  }

  private open (feed: Feed<Request>): void {
    const { settings } = this
    const idleRepeatMs = idleRepeatFor(settings, feed.html)
    const route: StreamRoute = { ...settings, path: this.path, idleRepeatMs, counters: this.counters }
    this.counters.source = feed.live
    // Streams are watched twice per stall timeout, four times per idle repeat and ten times per maxStreamMs, at
    // least every second and at most every 25 ms: a stream ends at most a tenth of maxStreamMs late, and at most
    // a second.
    const periods = [route.stallTimeoutMs / 2, idleRepeatMs / 4, route.maxStreamMs / 10].filter((ms) => ms > 0)
    const streams = new OpenStreams(periods.length === 0 ? 0 : Math.max(25, Math.min(1000, ...periods)))
    this.opened = { feed, profiled: { framing: settings.framing, html: feed.html, viewerFps: settings.viewerFps }, route, streams }
    if (this.closing) {
      feed.detach().catch(noop)
      return
    }
    if (events.routeOpen.hasSubscribers) events.routeOpen.publish({ route: this.path, stats: this.stats })
  }

  /**
   * Answers one request: a stream, or a plain response. Throws coded errors (a URL not signed as `signingKeys`
   * requires, bad `?framing=` or `?fps=`, bad headers); when
   * the request must wait (for its turn on the connection, or for the route's files), returns a promise that
   * settles once it is answered, and rejects with those errors.
   */
  handle (exchange: PushExchange<Request>): Promise<void> | undefined {
    const { req, res } = exchange
    // Whatever the route answers, a refusal that quotes the request included, is taken for nothing but its type.
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // HTTP/0.9 (a bare `GET /path` line), or HTTP/2.0 named on an HTTP/1 connection: the client's mistake, answered
    // as such before anything is taken over, and logged as a request, not as a server error.
    const protocol = protocolOf(req)
    if (protocol === undefined) {
      exchange.answer(unsupportedVersion(req))
      return undefined
    }
    // Before anything else of the route's: an unsigned request learns nothing of it (not even that it is full),
    // and waits for nothing.
    requireSignature(this.settings.signingKeys, req, this.path)
    // An HTTP/1.1 request pipelined behind one whose response is still going out gets the socket only once that
    // response has ended: HTTP/1.1 answers in order, and a stream written now would land in the middle of it. A
    // route whose files are still being read waits for them.
    if (res.socket === null || this.opened === undefined) {
      const turn = res.socket === null ? new Promise((resolve) => res.once('socket', resolve)) : undefined
      return Promise.all([turn, this.ready]).then(() => this.serve(exchange, protocol))
    }
    this.serve(exchange, protocol)
    return undefined
  }

  /** Answers a request whose turn on its connection has come. */
  private serve (exchange: PushExchange<Request>, protocol: ProtocolVersion): void {
    const { req } = exchange
    const { feed, profiled, route, streams } = this.opened as ReadyRoute<Request>
    const { settings, counters } = this
    const answer = (response: PlainResponse): void => exchange.answer(forProtocol(response, protocol))
    const refuse = (reason: RefuseReason, message: string): void => {
      if (reason !== 'server-closing') counters.viewersRefused++
      if (events.viewerRefuse.hasSubscribers) events.viewerRefuse.publish({ route: this.path, request: req, reason, status: 503 })
      answer(unavailable(message))
    }
    if (this.closing) return refuse('server-closing', 'Server is closing')
    // A server's request always has its target; String() is for Node's type, which allows none.
    const client = profileClient(req, pushQuery(String(req.url)), profiled)
    if (client.readerPage) {
      return answer({ status: 200, headers: settings.plainHeaders, type: 'text/html; charset=utf-8', body: READER_PAGE })
    }
    if (!client.headOnly && counters.viewers >= settings.maxClients) {
      return refuse('max-clients', `This stream has its maximum of ${settings.maxClients} viewers`)
    }
    if (!client.headOnly && pushStreamsOn(req) >= settings.maxStreamsPerConnection) {
      return refuse('max-streams-per-connection', `This connection carries its maximum of ${settings.maxStreamsPerConnection} streams`)
    }
    // Headers set earlier (CORS, auth) are checked before the socket is taken, so a bad one is still a plain 500.
    const preset = toHeaderList(exchange.presetHeaders(), invalidHeader)
      .filter(([name]) => !RESPONSE_RESERVED.has(name.toLowerCase()))
    exchange.takeOver()
    const layout = framing(client.framing, settings.multipart, settings.contentType, client.preamble)
    const sink = startResponse(req, {
      route: this.path,
      log: exchange.log,
      contentType: client.mixed ? settings.multipart.mixedContentType : settings.multipart.contentType,
      headers: mergeHeaders(settings.headers, preset),
      opening: layout.opening,
      headOnly: client.headOnly,
      chunked: settings.chunked
    })
    if (sink === undefined) return
    // The viewer's own rate lowers the route's, never raises it.
    const gapMs = Math.max(settings.minGapMs, 1000 / client.fps)
    const stream = feed.stream({ sink, route, framing: layout, gapMs, log: exchange.log, onEnd: this.ended }, exchange.request)
    streams.add(stream)
    if (events.viewerOpen.hasSubscribers) events.viewerOpen.publish({ route: this.path, id: stream.id, request: req, framing: layout.name, protocol })
    stream.start()
  }

  /**
   * Ends every stream well-formed and refuses new ones with 503; the source stops feeding the route. Settles once
   * a producer it stopped has stopped (a process exited).
   */
  close (): Promise<void> {
    const first = !this.closing
    this.closing = true
    if (this.opened === undefined) return Promise.resolve()
    this.opened.streams.close()
    if (first && events.routeClose.hasSubscribers) events.routeClose.publish({ route: this.path, stats: this.stats })
    return this.opened.feed.detach()
  }

  /** A stream is only made once the route is open. */
  private readonly ended = (stream: PushStream): void => { (this.opened as ReadyRoute<Request>).streams.delete(stream) }
}
