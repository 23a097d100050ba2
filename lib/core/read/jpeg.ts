// Splits a byte stream of concatenated JPEGs (what `ffmpeg -f mjpeg -` or `-f image2pipe` writes, or a device
// that streams raw JPEGs) into frames by walking the JPEG markers: segments are skipped by their length, so an
// end-of-image marker inside one (an EXIF thumbnail in APP1) does not cut a frame. Bytes between images are
// skipped; a frame that breaks off, or ends before any image data, is dropped and the next one found.
import { checkNumber } from '../check.js'
import { FST_SERVER_PUSH_BAD_JPEG } from '../errors.js'
import { Collected } from './bytes.js'

export interface JpegSplitterOptions {
  /** The largest frame accepted, in bytes. Default 16 MiB. */
  maxFrameBytes?: number
}

const MARKER = 0xff
const SOI = 0xd8
const EOI = 0xd9
const SOS = 0xda
const SOI_BYTES = Buffer.from([MARKER, SOI])

/** Starts with a JPEG's start-of-image marker and ends with its end-of-image marker: a body that shows itself whole. */
export function isWholeJpeg (body: Buffer): boolean {
  const n = body.length
  return n >= 4 && body[0] === MARKER && body[1] === SOI && body[n - 2] === MARKER && body[n - 1] === EOI
}

/** Standalone markers: no length follows (RST0-7, TEM). */
function standalone (code: number): boolean {
  return (code >= 0xd0 && code <= 0xd7) || code === 0x01
}

type State = 'search' | 'search-ff' | 'marker' | 'code' | 'length-high' | 'length-low' | 'segment' | 'scan' | 'scan-ff'

/** The splitter behind `splitJpegs`: `push()` each chunk and take the frames it completes. */
export class JpegSplitter {
  private readonly maxFrameBytes: number
  private state: State = 'search'
  /** The frame so far, before the current chunk. */
  private frame = new Collected()
  /** Whether the frame has reached its image data (SOS): an end before that is no image. */
  private scanned = false
  private lengthHigh = 0
  private remaining = 0
  private inScan = false

  constructor ({ maxFrameBytes = 16 * 1024 * 1024 }: JpegSplitterOptions = {}) {
    checkNumber('splitJpegs()', 'maxFrameBytes', maxFrameBytes, 1)
    this.maxFrameBytes = maxFrameBytes
  }

  push (chunk: Uint8Array): Buffer[] {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const frames: Buffer[] = []
    // Where the current frame's bytes begin in `data`; -1 while between frames.
    let start = this.state === 'search' || this.state === 'search-ff' ? -1 : 0
    const begin = (at: number): void => {
      this.frame = new Collected()
      this.frame.push(SOI_BYTES)
      this.scanned = false
      start = at
      this.state = 'marker'
    }
    const drop = (): void => {
      this.frame = new Collected()
      start = -1
      this.state = 'search'
    }
    let i = 0
    // Between images and in entropy-coded data only 0xFF matters: jump to the next one.
    const toMarker = (then: State): void => {
      const at = data.indexOf(MARKER, i)
      if (at === -1) {
        i = data.length
      } else {
        i = at + 1
        this.state = then
      }
    }
    while (i < data.length) {
      const byte = data[i] as number
      switch (this.state) {
        case 'search':
          toMarker('search-ff')
          break
        case 'search-ff':
          i++
          if (byte === SOI) begin(i)
          else if (byte !== MARKER) this.state = 'search'
          break
        case 'marker':
          // A marker must come here; anything else means the frame broke off.
          if (byte === MARKER) {
            i++
            this.state = 'code'
          } else {
            drop()
          }
          break
        case 'code':
          i++
          if (byte === MARKER) break // fill byte
          if (byte === EOI) {
            const last = data.subarray(start, i)
            const size = this.frame.length + last.length
            if (size > this.maxFrameBytes) throw this.tooLarge(size)
            if (this.scanned) {
              this.frame.push(last)
              frames.push(this.frame.bytes())
            }
            drop()
          } else if (byte === SOI) {
            begin(i) // a new image before this one ended: this one is lost
          } else if (standalone(byte)) {
            this.state = 'marker'
          } else if (byte === 0x00) {
            drop()
          } else {
            this.inScan = byte === SOS
            this.scanned ||= this.inScan
            this.state = 'length-high'
          }
          break
        case 'length-high':
          i++
          this.lengthHigh = byte
          this.state = 'length-low'
          break
        case 'length-low': {
          i++
          const length = this.lengthHigh * 256 + byte
          if (length < 2) {
            drop()
          } else {
            this.remaining = length - 2
            this.state = this.remaining > 0 ? 'segment' : this.inScan ? 'scan' : 'marker'
          }
          break
        }
        case 'segment': {
          const take = Math.min(this.remaining, data.length - i)
          i += take
          this.remaining -= take
          if (this.remaining === 0) this.state = this.inScan ? 'scan' : 'marker'
          break
        }
        case 'scan':
          toMarker('scan-ff')
          break
        case 'scan-ff':
          if (byte === 0x00 || standalone(byte)) {
            i++
            this.state = 'scan'
          } else if (byte === MARKER) {
            i++
          } else {
            this.state = 'code' // the marker after the scan: read it as any other
          }
          break
      }
    }
    if (start !== -1) {
      const rest = data.subarray(start)
      this.frame.push(rest)
      if (this.frame.length > this.maxFrameBytes) throw this.tooLarge(this.frame.length)
    }
    return frames
  }

  private tooLarge (size: number): Error {
    return new FST_SERVER_PUSH_BAD_JPEG(`a frame is larger than maxFrameBytes (${this.maxFrameBytes}), ${size} bytes so far`)
  }
}

/**
 * The JPEG frames of a byte stream of concatenated JPEGs, as they complete. Throws FST_SERVER_PUSH_BAD_JPEG
 * when a frame exceeds `maxFrameBytes`.
 */
export async function * splitJpegs (input: AsyncIterable<Uint8Array>, options?: JpegSplitterOptions): AsyncGenerator<Buffer, void, undefined> {
  const splitter = new JpegSplitter(options)
  for await (const chunk of input) yield * splitter.push(chunk)
}
