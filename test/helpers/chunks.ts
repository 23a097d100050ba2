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

/** What fuzzChunkings found: how many chunkings it tried and the seeds of those that failed. */
export interface FuzzResult {
  runs: number
  failedSeeds: number[]
  /** For a failure message: the seeds tried, and how to replay a failing one. */
  describe: string
}

/**
 * Tries `runs` random chunkings of `data`, each cut by its own seed, and keeps the seeds whose pieces `check`
 * rejects. The seeds start at a new number each run, so runs over time cover more ground; `FUZZ_SEED=<seed>` in
 * the environment tries that one chunking alone, to replay a failure.
 */
export function fuzzChunkings (data: Buffer, runs: number, check: (pieces: Buffer[]) => boolean): FuzzResult {
  const replay = process.env.FUZZ_SEED
  const first = replay === undefined ? Date.now() % 1_000_000 : Number(replay)
  const seeds = Array.from({ length: replay === undefined ? runs : 1 }, (_, i) => first + i)
  const failedSeeds = seeds.filter((seed) => !check(chunk(data, random(seed))))
  const tried = seeds.length === 1 ? `seed ${first}` : `seeds ${first}..${first + seeds.length - 1}`
  const replayHint = failedSeeds.length === 0 ? '' : `; failed: ${failedSeeds.slice(0, 5).join(', ')}; replay one with FUZZ_SEED=${failedSeeds[0]} (see the test file)`
  return { runs: seeds.length, failedSeeds, describe: `${seeds.length} random chunkings, ${tried}${replayHint}` }
}
