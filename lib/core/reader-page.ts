// What a browser that cannot show a text/html push document (Chromium) gets when it opens one: a page that
// reads the same stream with fetch() and shows each part the moment the delimiter that ends it arrives.
// Plain script, no build step: the plugin serves it as it is.

/** What the reader page's fetch() asks for: the stream as multipart/mixed, the same bytes under a type that
 * WebKit's fetch() reads (it fails on its first read of multipart/x-mixed-replace). */
export const READER_ACCEPT = 'multipart/mixed'

export const READER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title></title><link rel="icon" href="data:,"></head><body><script>
(async () => {
  const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0))
  const find = (bytes, pattern, from) => {
    for (let i = bytes.indexOf(pattern[0], from); i !== -1 && i <= bytes.length - pattern.length; i = bytes.indexOf(pattern[0], i + 1)) {
      let j = 1
      while (j < pattern.length && bytes[i + j] === pattern[j]) j++
      if (j === pattern.length) return i
    }
    return -1
  }
  const join = (a, b) => {
    const joined = new Uint8Array(a.length + b.length)
    joined.set(a)
    joined.set(b, a.length)
    return joined
  }
  const same = (a, b) => a !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i])
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  const CRLF = ascii('\\r\\n')
  let shown
  // A part the same as the one on screen (an idle repeat) would only reset the page's scroll and focus.
  const show = (part) => {
    if (same(shown, part)) return
    shown = part
    const end = part[0] === 13 && part[1] === 10 ? 0 : find(part, ascii('\\r\\n\\r\\n'), 0)
    if (end === -1) return
    const head = new TextDecoder('latin1').decode(part.subarray(0, end))
    const type = /^content-type:[ \\t]*([^\\r\\n]*)/im.exec(head)?.[1] ?? 'text/html'
    let decoder
    try { decoder = new TextDecoder(/charset="?([\\w-]+)/i.exec(type)?.[1] ?? 'utf-8') } catch { decoder = new TextDecoder() }
    const text = decoder.decode(part.subarray(end === 0 ? 2 : end + 4))
    if (/^text\\/html\\b/i.test(type)) {
      const page = new DOMParser().parseFromString(text, 'text/html').documentElement
      document.replaceChild(document.adoptNode(page), document.documentElement)
    } else {
      const pre = document.createElement('pre')
      pre.textContent = text
      document.body.replaceChildren(pre)
    }
  }
  // Reads one response; true once the server closed the stream with its close delimiter.
  const read = async (reader, delimiter) => {
    // The body starts with the first delimiter; a leading CRLF lets the same search find that one too.
    let bytes = CRLF
    let inPart = false
    let inDelimiterLine = false
    let scanned = 0
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return false
      bytes = join(bytes, value)
      for (;;) {
        if (inDelimiterLine) {
          if (bytes.length < 2) break
          if (bytes[0] === 45 && bytes[1] === 45) {
            reader.cancel()
            return true
          }
          const end = find(bytes, CRLF, 0)
          if (end === -1) break
          bytes = bytes.subarray(end + 2)
          inDelimiterLine = false
          inPart = true
          scanned = 0
        }
        const at = find(bytes, delimiter, scanned)
        if (at === -1) {
          scanned = Math.max(0, bytes.length - delimiter.length + 1)
          break
        }
        if (inPart) show(bytes.subarray(0, at))
        bytes = bytes.subarray(at + delimiter.length)
        inDelimiterLine = true
      }
    }
  }
  // A lost connection is tried again, later and later; a full route (503) after its Retry-After.
  for (let wait = 1000; ; wait = Math.min(wait * 2, 30000)) {
    // Each attempt's connection is let go when it ends, however: a read that fails may leave it open otherwise.
    const attempt = new AbortController()
    try {
      const response = await fetch(location.href, { cache: 'no-store', headers: { accept: '${READER_ACCEPT}' }, signal: attempt.signal })
      if (response.status === 503) {
        await sleep(1000 * (Number(response.headers.get('retry-after')) || 1))
        continue
      }
      const boundary = /boundary=(?:"([^"]+)"|([^;\\s]+))/i.exec(response.headers.get('content-type') ?? '')
      if (!response.ok || boundary === null || response.body === null) {
        document.body.textContent = 'This stream cannot be shown: HTTP ' + response.status + ' ' + response.statusText
        return
      }
      const before = shown
      if (await read(response.body.getReader(), ascii('\\r\\n--' + (boundary[1] ?? boundary[2])))) return
      if (shown !== before) wait = 500
    } catch {} finally {
      attempt.abort()
    }
    await sleep(wait)
  }
})()
</script></body></html>
`
