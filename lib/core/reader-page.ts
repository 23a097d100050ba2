// What a browser that cannot show a text/html push document (Chromium) gets when it opens one: a page that
// reads the same stream with the <push-view> code (push-view.ts) in its whole-document mode, showing each part
// the moment it is complete and coming back when the stream ends, fails or goes silent.
import { READER_SCRIPT } from './push-view.js'

export const READER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title></title><link rel="icon" href="data:,"></head><body><script>
${READER_SCRIPT}
</script></body></html>
`
