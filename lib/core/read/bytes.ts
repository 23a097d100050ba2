// Bytes gathered as a stream cuts them: a stream in single bytes must cost bytes, not a Buffer (or a copy of
// everything so far) per byte.

const PACK = 16 * 1024

/**
 * The bytes of one body or frame, as they arrive: large chunks are kept as they are, small ones are packed
 * together, and `bytes()` joins them once at the end (or hands out a single large chunk as it is).
 */
export class Collected {
  length = 0
  private readonly chunks: Buffer[] = []
  private pack: Buffer | undefined
  private packed = 0

  push (data: Buffer): void {
    this.length += data.length
    if (data.length >= PACK / 4) {
      this.seal()
      this.chunks.push(data)
      return
    }
    if (this.pack === undefined || this.packed + data.length > this.pack.length) {
      this.seal()
      this.pack = Buffer.allocUnsafe(PACK)
    }
    data.copy(this.pack, this.packed)
    this.packed += data.length
  }

  bytes (): Buffer {
    this.seal()
    const { chunks } = this
    return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, this.length)
  }

  private seal (): void {
    if (this.pack === undefined) return
    const packed = this.pack.subarray(0, this.packed)
    // A pack cut short by a large chunk would hold its whole 16 KiB for a few bytes.
    this.chunks.push(this.packed < PACK / 2 ? Buffer.from(packed) : packed)
    this.pack = undefined
    this.packed = 0
  }
}

/** Bytes that must be searched as one piece (a header block cut across chunks): one buffer that doubles as it grows. */
export class Joined {
  private buffer: Buffer = Buffer.alloc(0)
  length = 0

  append (data: Buffer): Buffer {
    if (this.length + data.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(256, 2 * this.buffer.length, this.length + data.length))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
    }
    data.copy(this.buffer, this.length)
    this.length += data.length
    return this.buffer.subarray(0, this.length)
  }

  clear (): void {
    this.buffer = Buffer.alloc(0)
    this.length = 0
  }
}

/**
 * The last `size` bytes of a stream, in one buffer of twice that: a stream in single bytes costs a byte copied
 * per byte (and `size` bytes moved once per `size`), never an allocation per chunk.
 */
export class Tail {
  private readonly buffer: Buffer
  private start = 0
  private end = 0

  constructor (private readonly size: number) {
    this.buffer = Buffer.allocUnsafe(2 * size)
  }

  get length (): number {
    return this.end - this.start
  }

  /** The byte `i` places from the oldest one kept (`i` below `length`). */
  at (i: number): number {
    return this.buffer[this.start + i]
  }

  push (data: Buffer): void {
    const { size, buffer } = this
    if (data.length >= size) {
      data.copy(buffer, 0, data.length - size)
      this.start = 0
      this.end = size
      return
    }
    if (this.end + data.length > buffer.length) {
      const kept = Math.min(this.length, size - data.length)
      buffer.copy(buffer, 0, this.end - kept, this.end)
      this.start = 0
      this.end = kept
    }
    data.copy(buffer, this.end)
    this.end += data.length
    this.start = Math.max(this.start, this.end - size)
  }

  clear (): void {
    this.start = 0
    this.end = 0
  }
}
