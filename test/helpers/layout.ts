// A whole multipart body as a stream lays it out: the opening, each part written by a viewer's Framing, and
// the close; written into memory instead of a socket.
import { framing, type FramingName } from '../../lib/core/framing.js'
import type { Sink } from '../../lib/core/sink.js'
import type { EncodedPart, Multipart } from '../../lib/core/wire.js'

/**
 * The body of a stream of a route of part type `type` that sent `parts` in `name` framing, then ended on `last`
 * (default: the last part).
 */
export function laidOut (name: FramingName, m: Multipart, parts: readonly EncodedPart[], last: EncodedPart | undefined = parts.at(-1), type = 'text/plain'): Buffer {
  const layout = framing(name, m, type, false)
  const chunks: Buffer[] = [layout.opening]
  const memory = {
    writeAll (list: readonly Buffer[]) {
      chunks.push(...list)
      return list.reduce((bytes, chunk) => bytes + chunk.length, 0)
    }
  } as unknown as Sink
  for (const part of parts) layout.write(memory, part)
  return Buffer.concat([...chunks, ...layout.closing(last)])
}
