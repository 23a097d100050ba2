// A source function's viewers often yield the same bytes: one camera buffer read by every viewer until the next
// frame, or a few images in turn. The part made of such a buffer is kept and made again for no one: the body is
// scanned for the boundary once per route, not once per viewer.
import type { EncodedPart } from './wire.js'

/** At most this many parts are kept, and past the first, no more than RECENT_BYTES of them. */
const RECENT = 16
const RECENT_BYTES = 16 * 1024 * 1024

/**
 * The parts of the last frames a route's viewers yielded as bare Buffers or Uint8Arrays, by identity. A buffer
 * yielded again is taken to hold the same bytes, as a socket write takes a buffer it still has to send.
 */
export class RecentParts {
  /** Oldest first, as a Map keeps its keys in the order they came. */
  private readonly parts = new Map<Uint8Array, EncodedPart>()
  private bytes = 0

  /** The part of `frame` when it was made lately. */
  get (frame: Uint8Array): EncodedPart | undefined {
    return this.parts.get(frame)
  }

  add (frame: Uint8Array, part: EncodedPart): void {
    const { parts } = this
    parts.set(frame, part)
    this.bytes += part.byteLength
    while (parts.size > RECENT || (this.bytes > RECENT_BYTES && parts.size > 1)) {
      const [oldest, dropped] = parts.entries().next().value as [Uint8Array, EncodedPart]
      parts.delete(oldest)
      this.bytes -= dropped.byteLength
    }
  }
}
