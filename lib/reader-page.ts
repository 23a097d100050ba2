// What a browser that cannot show a text/html push document (Chromium) gets when it opens one: a page that
// reads the same stream with fetch() and shows each part the moment the delimiter that ends it arrives.
// Plain script, no build step: the plugin serves it as it is.
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
  const CRLF = ascii('\\r\\n')
  const show = (part) => {
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
  const response = await fetch(location.href, { cache: 'no-store' })
  const boundary = /boundary=(?:"([^"]+)"|([^;\\s]+))/i.exec(response.headers.get('content-type') ?? '')
  if (!response.ok || boundary === null || response.body === null) {
    document.body.textContent = 'This stream cannot be shown: HTTP ' + response.status + ' ' + response.statusText
    return
  }
  // The body starts with the first delimiter; a leading CRLF lets the same search find that one too.
  const delimiter = ascii('\\r\\n--' + (boundary[1] ?? boundary[2]))
  const reader = response.body.getReader()
  let bytes = CRLF
  let inPart = false
  let inDelimiterLine = false
  let scanned = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    bytes = join(bytes, value)
    for (;;) {
      if (inDelimiterLine) {
        if (bytes[0] === 45 && bytes[1] === 45) return reader.cancel()
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
})()
</script></body></html>
`
