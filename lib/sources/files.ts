// A fixed set of images (or HTML pages) read once at registration and cycled forever, as the classic
// server-push demo cycles ten thumbnails.
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import { FST_SERVER_PUSH_INVALID_SOURCE } from '../errors.js'
import { toPart, type FrameObject } from '../frame.js'
import type { EncodedPart, Multipart } from '../wire.js'

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

  /** Reads every file; rejects when one is missing, empty or unreadable (register wraps it in FST_SERVER_PUSH_INVALID_SOURCE). */
  async load (): Promise<FrameObject[]> {
    const files = await this.list()
    return Promise.all(files.map(async (file) => {
      let body: Buffer
      try {
        body = await readFile(file)
      } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as Error).message}`)
      }
      if (body.length === 0) throw new Error(`${file} is empty`)
      const contentType = mediaType(file)
      return contentType === undefined ? { body } : { body, contentType }
    }))
  }
}

/**
 * Cycles these files in order, one part each. The Content-Type comes from the extension (.jpg, .png, .gif,
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
 * Dot files and other files are left out; a directory with none of these fails registration.
 */
export function fromDirectory (dir: string): FileSource {
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
    // stat, not the directory entry: links count as what they point to, and a FIFO would block the read forever.
    const files = []
    for (const name of names) {
      const file = join(root, name)
      if ((await stat(file)).isFile()) files.push(file)
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
export async function loadParts (source: FileSource, path: string, contentType: string, m: Multipart): Promise<EncodedPart[]> {
  try {
    return (await source.load()).map((frame) => toPart(frame, contentType, m))
  } catch (err) {
    throw new FST_SERVER_PUSH_INVALID_SOURCE(`${path}: ${source.description}: ${(err as Error).message}`)
  }
}

/** Repeats `items` (never empty) forever. */
export function * cycle<T> (items: readonly T[]): Generator<T, never> {
  for (;;) yield * items
}
