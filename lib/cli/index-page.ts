// The command's index page: every camera as a view that heals (`<push-view>`), and the URLs a user copies into
// other tools (ffmpeg, VLC, OctoPrint). Names are path segments of a restricted alphabet, so they need no escaping.

/** One camera's URLs, as the page links them (signed, when streams need it). */
export interface CameraLinks {
  readonly name: string
  readonly stream: string
  readonly snapshot: string
  readonly state: string
  readonly actionStream: string
  readonly actionSnapshot: string
  /** Where the view asks a fresh signed URL of its stream before each new attempt; none when streams are not signed. */
  readonly refresh: string | undefined
}

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
}

function section ({ name, stream, snapshot, state, actionStream, actionSnapshot, refresh }: CameraLinks): string {
  const link = (href: string, text: string): string => `<a href="${escape(href)}">${text}</a>`
  return `<section>
<h2>${name}</h2>
<push-view src="${escape(stream)}"${refresh === undefined ? '' : ` refresh-src="${escape(refresh)}"`} alt="${name}" show-age></push-view>
<p>${link(stream, 'stream')} · ${link(snapshot, 'snapshot')} · ${link(state, 'state')} · ${link(actionStream, '?action=stream')} · ${link(actionSnapshot, '?action=snapshot')}</p>
</section>`
}

/** The page, for `cameras` in their order. */
export function indexPage (cameras: readonly CameraLinks[], viewScript: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fastify-server-push</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1rem; background: #111; color: #ddd }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 28rem), 1fr)); gap: 1rem }
push-view { display: block; background: #000; aspect-ratio: 4 / 3 }
a { color: #8cf }
</style>
<script src="${escape(viewScript)}"></script>
</head>
<body>
<main>
${cameras.map(section).join('\n')}
</main>
</body>
</html>
`
}
