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
  private readonly frames: Uint8Array[] = []
  private readonly parts: EncodedPart[] = []
  private bytes = 0

  /** The part of `frame` when it was made lately; newest first, where a shared camera frame is found. */
  get (frame: unknown): EncodedPart | undefined {
    const { frames } = this
    for (let i = frames.length - 1; i >= 0; i--) {
      if (frames[i] === frame) return this.parts[i]
    }
    return undefined
  }

  add (frame: Uint8Array, part: EncodedPart): void {
    this.frames.push(frame)
    this.parts.push(part)
    this.bytes += part.standard.length
    while (this.frames.length > RECENT || (this.bytes > RECENT_BYTES && this.frames.length > 1)) {
      this.frames.shift()
      this.bytes -= (this.parts.shift() as EncodedPart).standard.length
    }
  }
}
