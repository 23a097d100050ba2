// The browser side of a push route: `<push-view src="/cam.mjpg">`, a view that reads the stream with fetch(),
// shows each part the moment it is complete, and comes back by itself when the stream ends, fails or goes silent.
// Plain script, no dependency and no build step: the plugin serves it as it is (`viewScript`), and the reader
// page (reader-page.ts) runs the same code on its whole document.
import { createHash } from 'node:crypto'
import type { HeaderList } from './headers.js'
import type { PlainResponse } from './plain-response.js'

/** What a view's fetch() asks for: the stream as multipart/mixed, the same bytes under a type that WebKit's
 * fetch() reads (it fails on its first read of multipart/x-mixed-replace). */
export const READER_ACCEPT = 'multipart/mixed'

// The script's body: a function of `documentMode`. False: it defines the <push-view> element. True: it shows the
// stream at location.href as the whole document (the reader page). String.raw: what is written here is what the
// browser gets, escapes included; so no backquote below, and no dollar-brace but the one that puts READER_ACCEPT in.
const BODY = String.raw`
  'use strict'
  const ACCEPT = '${READER_ACCEPT}'
  // A view that stops hearing from its stream waits this long at least before it calls it silent. A connection
  // that died says nothing (WebKit's fetch() over HTTP/2 never hears of a server gone), so the view cannot wait for
  // ever on a stream it knows no rhythm of; a route quieter than this needs an idle repeat (see the README).
  const SILENCE_FLOOR_MS = 5000
  // ...or this many of the longest gap it has seen between two parts, whichever is longer.
  const SILENCE_GAPS = 4
  // Backoff: the first wait after a stream that delivered, doubled per failure up to the last.
  const FIRST_WAIT_MS = 500
  const MAX_WAIT_MS = 30000
  // A part larger than this is no frame: the stream is dropped rather than the page's memory.
  const MAX_PART_BYTES = 64 * 1024 * 1024
  const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0))
  const CRLF = ascii('\r\n')
  const HEAD_END = ascii('\r\n\r\n')
  const latin1 = new TextDecoder('latin1')

  /** Where pattern starts in data[from, to), or -1. */
  const find = (data, pattern, from, to) => {
    // Up to 'to' only: what lies beyond it in the buffer is old bytes.
    const bytes = data.subarray(0, to)
    const last = to - pattern.length
    for (let i = bytes.indexOf(pattern[0], from); i !== -1 && i <= last; i = bytes.indexOf(pattern[0], i + 1)) {
      let j = 1
      while (j < pattern.length && bytes[i + j] === pattern[j]) j++
      if (j === pattern.length) return i
    }
    return -1
  }
  const same = (a, b) => {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  /** Jittered wait: between half and all of the backoff's step. */
  const backoff = (failures) => {
    const step = Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** failures)
    return step / 2 + Math.random() * step / 2
  }

  // A multipart body cut into parts as its bytes come. A part whose header block gives its Content-Length ends
  // after that many bytes, its body never scanned; one without ends where the next delimiter begins. The bytes
  // wait in one buffer that grows by doubling and is compacted in place, so a large part costs no copy per chunk.
  const SEEK = 0
  const LINE = 1
  const HEAD = 2
  const BODY = 3
  class Parts {
    constructor (boundary, onPart) {
      this.delimiter = ascii('\r\n--' + boundary)
      this.onPart = onPart
      // The body starts with the first delimiter; a leading CRLF lets the same search find that one too.
      this.data = new Uint8Array(65536)
      this.data.set(CRLF)
      this.start = 0
      this.end = 2
      this.state = SEEK
      this.scanned = 0
      this.length = -1
      this.headers = null
    }

    /** Takes a chunk; true once the close delimiter has come. Throws on a part beyond MAX_PART_BYTES. */
    push (chunk) {
      const kept = this.end - this.start
      if (this.end + chunk.length > this.data.length) {
        if (kept + chunk.length > MAX_PART_BYTES) throw new Error('a part larger than ' + MAX_PART_BYTES + ' bytes')
        if (kept + chunk.length > this.data.length / 2) {
          const grown = new Uint8Array(Math.max(2 * this.data.length, kept + chunk.length))
          grown.set(this.data.subarray(this.start, this.end))
          this.data = grown
        } else {
          this.data.copyWithin(0, this.start, this.end)
        }
        this.start = 0
        this.end = kept
      }
      this.data.set(chunk, this.end)
      this.end += chunk.length
      return this.parse()
    }

    consume (n) {
      this.start += n
      this.scanned = 0
      if (this.start === this.end) this.start = this.end = 0
    }

    parse () {
      for (;;) {
        const { data, start, end } = this
        if (this.state === SEEK || (this.state === BODY && this.length < 0)) {
          const at = find(data, this.delimiter, start + this.scanned, end)
          if (at === -1) {
            this.scanned = Math.max(0, end - start - this.delimiter.length + 1)
            return false
          }
          if (this.state === BODY) this.onPart(this.headers, data.subarray(start, at))
          this.consume(at - start + this.delimiter.length)
          this.state = LINE
        } else if (this.state === LINE) {
          if (end - start < 2) return false
          if (data[start] === 45 && data[start + 1] === 45) return true
          const at = find(data, CRLF, start, end)
          if (at === -1) return false
          this.consume(at - start + 2)
          this.state = HEAD
        } else if (this.state === HEAD) {
          if (end - start < 2) return false
          let text = ''
          if (data[start] === 13 && data[start + 1] === 10) {
            this.consume(2)
          } else {
            const at = find(data, HEAD_END, start + this.scanned, end)
            if (at === -1) {
              this.scanned = Math.max(0, end - start - 3)
              return false
            }
            text = latin1.decode(data.subarray(start, at))
            this.consume(at - start + 4)
          }
          const headers = new Map()
          for (const line of text.split('\r\n')) {
            const colon = line.indexOf(':')
            if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
          }
          const length = headers.get('content-length')
          this.length = length !== undefined && /^\d+$/.test(length) ? Number(length) : -1
          this.headers = headers
          this.state = BODY
        } else {
          if (this.length > MAX_PART_BYTES) throw new Error('a part larger than ' + MAX_PART_BYTES + ' bytes')
          if (end - start < this.length) return false
          this.onPart(this.headers, data.subarray(start, start + this.length))
          this.consume(this.length)
          this.state = SEEK
        }
      }
    }
  }

  // One timer for every view of the page: the silence watch, the stale mark and the age shown, once a second.
  const readers = new Set()
  let ticking
  const tick = () => { for (const reader of readers) reader.tick() }

  // A view's stream, read and read again. view.show(part) shows a part, view.state(state) hears of every change
  // of state, view.failed(status) of an answer that is not a stream. One fetch at a time, one timer at a time.
  class Reader {
    constructor (url, view) {
      this.url = url
      this.view = view
      this.attempt = null
      this.timer = undefined
      this.failures = 0
      this.flowing = false
      this.streamParts = 0
      this.lastPartAt = 0
      this.longestGap = 0
      this.shown = null
      this.current = ''
      this.staleAfterMs = 0
      // The view's refresh-src, resolved: where each attempt but the first gets a fresh URL (a signed one, whose
      // expiry the last has passed); null: every attempt opens url.
      this.refreshUrl = null
      this.attempts = 0
    }

    start () {
      document.addEventListener('visibilitychange', this)
      readers.add(this)
      ticking ??= setInterval(tick, 1000)
      this.connect()
    }

    stop () {
      this.pause()
      document.removeEventListener('visibilitychange', this)
      readers.delete(this)
      if (readers.size === 0) {
        clearInterval(ticking)
        ticking = undefined
      }
    }

    // The page hidden: the stream is closed, so the server sees the viewer leave; shown: opened at once.
    handleEvent () {
      if (document.hidden) {
        this.pause()
      } else if (this.attempt === null) {
        this.failures = 0
        this.connect()
      }
    }

    pause () {
      const attempt = this.attempt
      this.attempt = null
      attempt?.abort()
      clearTimeout(this.timer)
      this.timer = undefined
      this.flowing = false
      this.refresh()
    }

    async connect () {
      clearTimeout(this.timer)
      this.timer = undefined
      if (document.hidden) return
      const attempt = this.attempt = new AbortController()
      const startedAt = performance.now()
      // The silence watch counts from the request: a server that never answers is silent too.
      this.lastPartAt = startedAt
      this.streamParts = 0
      let delivered = false
      let wait
      // Whether this attempt opened a URL refresh-src gave: a 403 for src itself (its signature expired while the
      // page was open or hidden) is asked again at once, through refresh-src, and is no failure.
      let refreshed = false
      try {
        let url = this.url
        if (this.refreshUrl !== null && this.attempts++ > 0) {
          refreshed = true
          // Same origin only, with the page's cookies: what signs a URL is the page's own server. An answer that is
          // not a URL fails the attempt, and the backoff applies as to a stream that failed.
          if (new URL(this.refreshUrl).origin !== location.origin) throw new Error('refresh-src must be on the page\'s origin')
          const fresh = await fetch(this.refreshUrl, { cache: 'no-store', credentials: 'same-origin', signal: attempt.signal })
          if (!fresh.ok) throw new Error('refresh-src answered ' + fresh.status)
          url = new URL((await fresh.text()).trim(), this.refreshUrl)
          if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('refresh-src gave no http(s) URL')
        }
        const response = await fetch(url, { cache: 'no-store', headers: { accept: ACCEPT }, signal: attempt.signal })
        const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(response.headers.get('content-type') ?? '')
        if (!response.ok || boundary === null || response.body === null) {
          // A full route (503) says when to come back.
          const retryAfter = Number(response.headers.get('retry-after'))
          if (response.status === 503 && retryAfter > 0) wait = 1000 * Math.min(retryAfter, 3600) * (1 + Math.random() / 4)
          if (response.status === 403 && this.refreshUrl !== null && !refreshed) wait = 0
          else if (this.attempt === attempt) this.view.failed(response.status + ' ' + response.statusText)
          response.body?.cancel().catch(() => {})
        } else {
          const body = response.body.getReader()
          const parts = new Parts(boundary[1] ?? boundary[2], (headers, bytes) => {
            delivered = true
            this.part(headers, bytes)
          })
          for (;;) {
            const { value, done } = await body.read()
            if (done || parts.push(value)) break
          }
        }
      } catch {
        // A network error, an abort (silence, hidden page, removed view), a part too large: all end the attempt.
      } finally {
        attempt.abort()
      }
      // Hidden, removed, or replaced meanwhile: whoever did that decides what comes next.
      if (this.attempt !== attempt) return
      this.attempt = null
      // A stream that delivered and ended (maxStreamMs, a server closing) leaves the view live while it asks again:
      // it turns stale only if that fails, and does not flicker at each planned end. It asks again at once only
      // after a stream that lasted at least the wait it would now cost: a source that ends every stream at once (a
      // closed one, a finite one) is asked later and later, not several times a second for ever.
      if (!delivered) this.flowing = false
      else if (performance.now() - startedAt >= FIRST_WAIT_MS * 2 ** this.failures) this.failures = 0
      this.refresh()
      this.timer = setTimeout(() => this.connect(), wait ?? backoff(this.failures++))
    }

    part (headers, bytes) {
      const now = performance.now()
      // Gaps within a stream only: the wait for a new stream is no gap of the route's.
      if (this.streamParts++ > 0) this.longestGap = Math.max(this.longestGap, now - this.lastPartAt)
      this.lastPartAt = now
      this.flowing = true
      const type = headers.get('content-type') ?? 'text/html'
      const stamp = headers.get('x-timestamp')
      const offline = headers.get('x-offline')
      const shown = this.shown
      // A part the same as the one shown (an idle repeat, the last part again before the close) is not shown again.
      // A repeat carries its frame's X-Timestamp: the same stamp, length and type tell it without reading the
      // bytes; a part without a stamp is compared byte for byte (only when the lengths agree).
      const repeat = shown !== null && shown.type === type && shown.bytes.length === bytes.length &&
        shown.offline === offline && (stamp !== undefined && shown.stamp !== undefined ? stamp === shown.stamp : same(shown.bytes, bytes))
      if (!repeat) {
        const timestamp = Number(stamp)
        this.shown = {
          type,
          // A copy: the parser's buffer is written over by the parts that follow.
          bytes: bytes.slice(),
          headers,
          stamp,
          offline,
          timestamp: timestamp > 0 ? timestamp * 1000 : null,
          offlineSince: offline === undefined ? null : (Number(offline) * 1000 || Date.now()),
          receivedAt: Date.now()
        }
        this.view.show(this.shown)
      }
      this.refresh()
    }

    /** Ms since the picture shown was taken (its X-Timestamp, else its arrival), or null with none shown. */
    age () {
      if (this.shown === null) return null
      return Math.max(0, Date.now() - (this.shown.timestamp ?? this.shown.receivedAt))
    }

    tick () {
      // Silent: no part for a few of the longest gaps seen. The read is aborted, and connect() tries again.
      if (this.attempt !== null && performance.now() - this.lastPartAt > Math.max(SILENCE_FLOOR_MS, SILENCE_GAPS * this.longestGap)) {
        this.attempt.abort()
      }
      this.refresh()
      this.view.tick?.()
    }

    refresh () {
      let state = 'connecting'
      if (this.shown !== null) {
        const age = this.age()
        if (this.shown.offlineSince !== null) state = 'offline'
        // Stale by the viewer's clock alone (how long since a new picture came), which may disagree with the
        // server's that stamped it: the age shown is the picture's own.
        else if (!this.flowing || (this.staleAfterMs > 0 && Date.now() - this.shown.receivedAt > this.staleAfterMs)) state = 'stale'
        else state = 'live'
      }
      if (state === this.current) return
      const previous = this.current
      this.current = state
      this.view.state(state, previous)
    }
  }

  // The reader page: the stream at its own URL shown as the whole document.
  if (documentMode) {
    let decoded = false
    new Reader(location.href, {
      show (part) {
        decoded = true
        const text = decode(part)
        if (/^text\/html\b/i.test(part.type)) {
          const page = new DOMParser().parseFromString(text, 'text/html').documentElement
          document.replaceChild(document.adoptNode(page), document.documentElement)
        } else {
          const pre = document.createElement('pre')
          pre.textContent = text
          document.body.replaceChildren(pre)
        }
      },
      failed (status) {
        if (!decoded) document.body.textContent = 'This stream cannot be shown now: HTTP ' + status
      },
      state () {}
    }).start()
    return
  }

  function decode (part) {
    let decoder
    try { decoder = new TextDecoder(/charset="?([\w-]+)/i.exec(part.type)?.[1] ?? 'utf-8') } catch { decoder = new TextDecoder() }
    return decoder.decode(part.bytes)
  }

  if (customElements.get('push-view') !== undefined) return

  // How an image part gets on screen. A Blob and a Blob URL per frame are each a call into the browser's blob
  // registry (in Chromium most of a view's main-thread time, 6 times an <img>'s): where WebCodecs' ImageDecoder
  // is (Chromium, Firefox), the bytes are decoded with neither, and drawn on a canvas. Elsewhere (WebKit), and for
  // a part the decoder does not take (image/svg+xml), an <img> and a Blob URL: WebKit's createImageBitmap(blob)
  // cost its main thread about as much, and showed only 3 frames in 4 of a 12-view wall.
  const DECODER = typeof ImageDecoder === 'function'
  // Whether the decoder takes a type, asked once per type for the whole page (a promise, then the answer).
  const decodes = new Map()
  const ignore = () => {}

  /** An attribute's URL resolved against the page, or null when it has none or it is no URL. */
  const resolve = (value) => {
    if (value === null || value === '') return null
    try {
      return new URL(value, document.baseURI).href
    } catch {
      return null
    }
  }

  const formatAge = (ms) => {
    const s = Math.floor(ms / 1000)
    if (s < 60) return s + ' s'
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s'
    return Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min'
  }

  // Zero specificity (:where), so that any rule of the page wins.
  const style = document.createElement('style')
  style.textContent = ':where(push-view){display:inline-block;position:relative;overflow:hidden}' +
    ':where(push-view)>:is(img,canvas){display:block;width:100%;height:100%;object-fit:contain}' +
    ':where(push-view[state=stale],push-view[state=offline])>:is(img,canvas){filter:grayscale(1)}' +
    ':where(push-view)>.push-view-age{position:absolute;left:0;bottom:0;padding:0 .3em;font:12px/1.4 monospace;background:rgba(0,0,0,.6);color:#fff}'
  document.head.appendChild(style)

  /**
   * <push-view src="/cam.mjpg" refresh-src="/cam-url" show-age stale-after="5000" alt="...">: a push stream's parts
   * as they come; each attempt after the first opens the URL refresh-src answers, if it is set.
   * Reflects state="connecting|live|stale|offline"; dispatches "frame" (a part shown) and "statechange".
   */
  class PushView extends HTMLElement {
    static get observedAttributes () { return ['src', 'refresh-src', 'show-age', 'stale-after', 'alt'] }

    constructor () {
      super()
      this.connected = false
      this.reader = null
      this.url = null
      this.img = null
      this.canvas = null
      this.context = null
      this.pending = null
      this.loading = null
      this.label = null
    }

    /** The view's state: connecting, live, stale or offline. */
    get state () { return this.reader?.current || 'connecting' }
    /** Ms since the picture shown was taken, or null with none. */
    get age () { return this.reader?.age() ?? null }

    connectedCallback () {
      this.connected = true
      this.open()
    }

    disconnectedCallback () {
      this.connected = false
      this.close()
    }

    // Before connectedCallback (an element parsed or upgraded with its attributes) nothing opens: that one will.
    attributeChangedCallback (name, before, after) {
      if (!this.connected || before === after) return
      if (name === 'src') this.open()
      else if (name === 'alt') {
        this.img?.setAttribute('alt', this.getAttribute('alt') ?? '')
        this.canvas?.setAttribute('aria-label', this.getAttribute('alt') ?? '')
      }
      else this.settings()
    }

    settings () {
      if (this.reader !== null) {
        this.reader.staleAfterMs = Math.max(0, Number(this.getAttribute('stale-after')) || 0)
        this.reader.refreshUrl = resolve(this.getAttribute('refresh-src'))
      }
      this.tick()
      this.reader?.refresh()
    }

    open () {
      this.close()
      // Not a URL: nothing to open, as with no src; the page's own code may set a good one.
      const url = resolve(this.getAttribute('src'))
      if (url === null) return
      this.reader = new Reader(url, this)
      this.settings()
      this.reader.start()
    }

    close () {
      this.reader?.stop()
      this.reader = null
      this.pending = null
      this.loading = null
      if (this.url !== null) URL.revokeObjectURL(this.url)
      this.url = null
    }

    show (part) {
      if (part.type.startsWith('image/')) {
        // The newest part waits while the one before decodes: latest wins, one waiting at most.
        if (this.loading !== null) {
          this.pending = part
          return
        }
        this.loading = part
        if (DECODER) this.decode(part)
        else this.load(part)
        return
      }
      this.img = null
      this.canvas = null
      this.context = null
      const text = decode(part)
      if (/^text\/html\b/i.test(part.type)) {
        const body = new DOMParser().parseFromString(text, 'text/html').body
        this.replaceChildren(...[...body.childNodes].map((node) => document.adoptNode(node)))
      } else {
        const pre = document.createElement('pre')
        pre.textContent = text
        this.replaceChildren(pre)
      }
      this.shown(part)
    }

    // The part decoded off the main thread, then drawn on the view's canvas; its decoder, frame and bitmap closed
    // at once.
    async decode (part) {
      let decoder = null
      let frame = null
      let picture = null
      try {
        // By the type without its parameters: what a decoder takes, and a key a server cannot vary without end.
        const type = part.type.split(';')[0].trim().toLowerCase()
        if (!decodes.has(type)) decodes.set(type, ImageDecoder.isTypeSupported(type))
        if (await decodes.get(type)) {
          // The decoder copies the bytes: nothing is made per frame in the browser's registries.
          decoder = new ImageDecoder({ data: part.bytes, type })
          // Bytes it cannot read reject these too (Firefox reports them unhandled): the decode below says it.
          decoder.completed.catch(ignore)
          decoder.tracks.ready.catch(ignore)
          frame = (await decoder.decode()).image
          // Drawn from a bitmap: in Chromium, drawImage() of a VideoFrame converts it within the call (1.4 ms a
          // 320x240 frame, most of the view's script time); drawImage() of a bitmap is a copy.
          picture = await createImageBitmap(frame)
        }
      } catch {
        // A type the decoder does not take, or bytes it cannot read: the <img> has its say below.
      } finally {
        decoder?.close()
        frame?.close()
      }
      // Closed, or pointed at another stream, while this part decoded: it is no longer the view's to show.
      if (this.loading !== part) {
        picture?.close()
        return
      }
      if (picture === null) {
        this.load(part)
        return
      }
      let drawn = false
      try {
        this.draw(picture)
        drawn = true
      } catch {
        // No 2d context, or a draw that failed: the part is skipped and the next one goes in, never a stuck view.
      } finally {
        picture.close()
      }
      this.loaded(part, drawn)
    }

    draw (picture) {
      const { width, height } = picture
      if (this.canvas === null || this.canvas.parentNode !== this) {
        this.img = null
        if (this.url !== null) URL.revokeObjectURL(this.url)
        this.url = null
        this.canvas = document.createElement('canvas')
        // A canvas is no image to assistive technology unless it says so; alt becomes its label.
        this.canvas.setAttribute('role', 'img')
        this.canvas.setAttribute('aria-label', this.getAttribute('alt') ?? '')
        this.context = this.canvas.getContext('2d')
        this.replaceChildren(this.canvas)
      }
      if (this.canvas.width !== width || this.canvas.height !== height) {
        this.canvas.width = width
        this.canvas.height = height
      }
      // 'copy': the new picture replaces every pixel, a transparent one too (a resize resets it, so set each time).
      this.context.globalCompositeOperation = 'copy'
      this.context.drawImage(picture, 0, 0, width, height)
    }

    // Through an <img> and a Blob URL: for what the decoders above do not show.
    load (part) {
      if (this.img === null || this.img.parentNode !== this) {
        this.canvas = null
        this.context = null
        this.img = document.createElement('img')
        this.img.alt = this.getAttribute('alt') ?? ''
        this.img.addEventListener('load', this)
        this.img.addEventListener('error', this)
        this.replaceChildren(this.img)
      }
      const old = this.url
      this.img.src = this.url = URL.createObjectURL(new Blob([part.bytes], { type: part.type }))
      // The picture on screen stays decoded; the bytes behind its old URL are let go.
      if (old !== null) URL.revokeObjectURL(old)
    }

    // The inner image's load or error.
    handleEvent (event) {
      this.loaded(this.loading, event.type === 'load')
    }

    // The part being loaded is on screen (or could not be); the newest one waiting goes in.
    loaded (part, ok) {
      this.loading = null
      if (part !== null && ok) this.shown(part)
      const next = this.pending
      this.pending = null
      if (next !== null && this.reader !== null) this.show(next)
    }

    shown (part) {
      this.tick()
      this.dispatchEvent(new CustomEvent('frame', {
        bubbles: true,
        detail: { type: part.type, bytes: part.bytes.length, timestamp: part.timestamp, offlineSince: part.offlineSince, headers: part.headers }
      }))
    }

    failed () {}

    state (state, previous) {
      this.setAttribute('state', state)
      this.tick()
      this.dispatchEvent(new CustomEvent('statechange', { bubbles: true, detail: { state, previous } }))
    }

    tick () {
      const age = this.reader?.age() ?? null
      if (!this.hasAttribute('show-age') || age === null) {
        this.label?.remove()
        this.label = null
        return
      }
      if (this.label === null || this.label.parentNode !== this) {
        this.label = document.createElement('span')
        this.label.className = 'push-view-age'
        this.appendChild(this.label)
      }
      const since = this.reader.shown.offlineSince
      this.label.textContent = since !== null ? 'offline for ' + formatAge(Math.max(0, Date.now() - since)) : formatAge(age) + ' ago'
    }
  }
  customElements.define('push-view', PushView)
`

/** The `<push-view>` module: plain script, loaded with `<script src>` (or as a module), no dependency. */
export const PUSH_VIEW_SCRIPT = `// <push-view>: fastify-server-push's self-healing view of a push stream.\n(function (documentMode) {${BODY}})(false)\n`

/** The same code showing the stream at the page's own URL as the whole document, for the reader page. */
export const READER_SCRIPT = `(function (documentMode) {${BODY}})(true)`

/** The script's ETag: it changes with the script (a new version of the package), and only then. */
export const PUSH_VIEW_ETAG = `"${createHash('sha256').update(PUSH_VIEW_SCRIPT).digest('base64url').slice(0, 22)}"`

/** The default path the script is served at. */
export const PUSH_VIEW_PATH = '/push-view.js'

const SCRIPT_HEADERS: HeaderList = [
  // Kept, but checked with the server on each page load: a new version of the package is picked up at once.
  ['Cache-Control', 'no-cache'],
  ['ETag', PUSH_VIEW_ETAG],
  ['X-Content-Type-Options', 'nosniff']
]

/** Whether an If-None-Match header (a list of tags, weak or strong, or `*`) names the script's tag. */
function matches (ifNoneMatch: string | string[] | undefined): boolean {
  if (ifNoneMatch === undefined) return false
  return [ifNoneMatch].flat().join(',').split(',').some((tag) => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed.replace(/^W\//, '') === PUSH_VIEW_ETAG
  })
}

/** The answer to a request for the script: 304 when the client's copy is this one (its If-None-Match), else the script. */
export function pushViewResponse (ifNoneMatch: string | string[] | undefined): PlainResponse {
  const type = 'text/javascript; charset=utf-8'
  if (matches(ifNoneMatch)) return { status: 304, headers: SCRIPT_HEADERS, type, body: '' }
  return { status: 200, headers: SCRIPT_HEADERS, type, body: PUSH_VIEW_SCRIPT }
}
