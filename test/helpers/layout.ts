// A whole multipart body as a stream lays it out: the opening, each part written by a viewer's Framing, and
// the close; written into memory instead of a socket.
import { framing, type FramingName } from '../../lib/core/framing.js'
import type { Sink } from '../../lib/core/sink.js'
import type { EncodedPart, Multipart } from '../../lib/core/wire.js'

/** The body of a stream that sent `parts` in `name` framing, then ended on `last` (default: the last part). */
export function laidOut (name: FramingName, m: Multipart, parts: readonly EncodedPart[], last: EncodedPart | undefined = parts.at(-1)): Buffer {
  const chunks: Buffer[] = [m.opening]
  const memory = { cork () {}, uncork () {}, write (chunk: Buffer) { chunks.push(chunk) } } as unknown as Sink
  const layout = framing(name, m)
  for (const part of parts) layout.write(memory, part)
  return Buffer.concat([...chunks, ...layout.closing(last)])
}
