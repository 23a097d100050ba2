// Seeded random chunkings for the byte-stream readers: a failing chunking can be replayed from its seed.

/** A small seeded generator (mulberry32) of numbers in [0, 1). */
export function random (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let r = Math.imul(a ^ (a >>> 15), 1 | a)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

/** Cuts `data` at random places, at a random scale: single bytes, small pieces, or large ones. */
export function chunk (data: Buffer, next: () => number): Buffer[] {
  const pieces: Buffer[] = []
  const scale = [1, 8, 64, 512, 8192, 65536][Math.floor(next() * 6)] as number
  for (let at = 0; at < data.length;) {
    const size = 1 + Math.floor(next() * scale)
    pieces.push(data.subarray(at, at + size))
    at += size
  }
  return pieces
}
