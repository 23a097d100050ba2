// A fixed set of images (or HTML pages) read once at registration and cycled forever, as the classic
// server-push demo cycles ten thumbnails.
import { constants } from 'node:fs'
import { open, readdir, realpath, stat } from 'node:fs/promises'
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { FST_SERVER_PUSH_INVALID_SOURCE } from '../errors.js'
import { toPart, type FrameObject, type PartFormat } from '../frame.js'
import type { EncodedPart } from '../wire.js'

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.txt': 'text/plain'
}

function mediaType (file: string): string | undefined {
  return MEDIA_TYPES[extname(file).toLowerCase()]
}

/** Files open at once while loading: a directory of thousands must not hit the open-file limit (EMFILE). */
const OPEN_AT_ONCE = 16

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R> (items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/**
 * The bytes of `file`, which must be a regular file. It is opened without blocking and checked once open, so a
 * FIFO or a device named here (or swapped in after a listing) fails at once instead of hanging `register`.
 */
async function readRegularFile (file: string): Promise<Buffer> {
  let handle
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`)
  }
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${file} is not a regular file`)
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

// A brand rather than instanceof: the ESM and the CommonJS build each have their own class.
const BRAND = Symbol.for('fastify-server-push.FileSource')

/** Frames from files, read when the plugin registers; made by `fromFiles()` and `fromDirectory()`. */
export class FileSource {
  readonly [BRAND] = true

  /** @internal */
  constructor (
    /** What the frames come from, for error messages. */
    readonly description: string,
    private readonly list: () => Promise<string[]>
  ) {}

  /**
   * Reads every file; rejects when one is missing, empty, unreadable or not a regular file (register wraps it in
   * FST_SERVER_PUSH_INVALID_SOURCE).
   */
  async load (): Promise<FrameObject[]> {
    return mapLimited(await this.list(), OPEN_AT_ONCE, async (file) => {
      const body = await readRegularFile(file)
      if (body.length === 0) throw new Error(`${file} is empty`)
      const contentType = mediaType(file)
      return contentType === undefined ? { body } : { body, contentType }
    })
  }
}

/** Options of `fromDirectory()`. */
export interface DirectoryOptions {
  /**
   * Serve the files that symbolic links in the directory point to outside it. Default false: such a link fails
   * `register`, so that whoever can write into the directory cannot publish any file the server can read.
   */
  followLinksOutside?: boolean
}

/**
 * Cycles these files in order, one part each. Each must be a regular file (or a link to one). The Content-Type comes from the extension (.jpg, .png, .gif,
 * .webp, .avif, .bmp, .svg, .html, .txt), otherwise from the route's `contentType`.
 */
export function fromFiles (paths: readonly string[]): FileSource {
  const list = Array.isArray(paths) ? [...paths] : paths
  return new FileSource(`fromFiles(${JSON.stringify(list)})`, async () => {
    if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p !== '')) {
      throw new Error('fromFiles() needs a non-empty array of file paths')
    }
    return list.map((p) => resolve(p))
  })
}

/**
 * Cycles the image, HTML and text files of `dir` (see `fromFiles`) in natural name order (2.jpg before 10.jpg).
 * Dot files, sub-directories, FIFOs and other files are left out; a directory with none of these fails
 * registration, and so does a link that leads out of it (see `followLinksOutside`).
 */
export function fromDirectory (dir: string, { followLinksOutside = false }: DirectoryOptions = {}): FileSource {
  return new FileSource(`fromDirectory(${JSON.stringify(dir)})`, async () => {
    if (typeof dir !== 'string' || dir === '') {
      throw new Error('fromDirectory() needs a directory path')
    }
    const root = resolve(dir)
    let names: string[]
    try {
      names = (await readdir(root)).filter((name) => !name.startsWith('.') && mediaType(name) !== undefined)
    } catch (err) {
      throw new Error(`cannot read directory ${root}: ${(err as Error).message}`)
    }
    // stat, not the directory entry: links count as what they point to.
    const files = []
    const realRoot = await realpath(root)
    for (const name of names) {
      const file = join(root, name)
      if (!(await stat(file)).isFile()) continue
      const target = relative(realRoot, await realpath(file))
      if (!followLinksOutside && (target === '..' || target.startsWith(`..${sep}`) || isAbsolute(target))) {
        throw new Error(`${file} links outside the directory; fromDirectory(dir, { followLinksOutside: true }) allows it`)
      }
      files.push(file)
    }
    if (files.length === 0) throw new Error(`no image, HTML or text files in ${root}`)
    return files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  })
}

export function isFileSource (value: unknown): value is FileSource {
  return typeof value === 'object' && value !== null && (value as Partial<FileSource>)[BRAND] === true
}

/**
 * Reads and encodes the files for one route, once: every client then cycles the same part buffers.
 * Rejects with FST_SERVER_PUSH_INVALID_SOURCE naming the route.
 */
export async function loadParts (source: FileSource, path: string, format: PartFormat): Promise<EncodedPart[]> {
  try {
    return (await source.load()).map((frame) => toPart(frame, format))
  } catch (err) {
    throw new FST_SERVER_PUSH_INVALID_SOURCE(`${path}: ${source.description}: ${(err as Error).message}`)
  }
}

/** Repeats `items` (never empty) forever. */
export function * cycle<T> (items: readonly T[]): Generator<T, never> {
  for (;;) yield * items
}
