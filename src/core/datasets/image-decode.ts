import { decode as decodeJpeg } from 'jpeg-js'
import { PNG } from 'pngjs'
import { WorkbenchError } from '../../shared/contract/errors'

/** Most pixels one source image may have (6000 × 4000); checked from the header before decoding. */
export const MAX_IMAGE_PIXELS = 24_000_000
/** Memory jpeg-js may use for one image, in MiB (RGBA of MAX_IMAGE_PIXELS plus its buffers). */
const JPEG_MAX_MEMORY_MIB = 512
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** A decoded image: width × height RGBA bytes, row by row. */
export interface RgbaImage {
  width: number
  height: number
  data: Uint8Array
}

function fail(message: string, file: string): never {
  throw new WorkbenchError('DATASET_ERROR', message, { file })
}

/** 'png' or 'jpeg' from the first bytes, null for anything else. */
export function sniffImage(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png'
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return 'jpeg'
  return null
}

/** Width and height from a PNG's IHDR chunk, or null when the header is cut short. */
function pngSize(bytes: Uint8Array): [number, number] | null {
  if (bytes.length < 24) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return [view.getUint32(16), view.getUint32(20)]
}

/** Width and height from a JPEG's first SOF marker, or null when none is found. */
function jpegSize(bytes: Uint8Array): [number, number] | null {
  let p = 2
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) return null
    const marker = bytes[p + 1]
    if (marker === 0xff) {
      p++
      continue
    }
    const length = (bytes[p + 2] << 8) | bytes[p + 3]
    const isSof =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isSof) return [(bytes[p + 7] << 8) | bytes[p + 8], (bytes[p + 5] << 8) | bytes[p + 6]]
    if (length < 2) return null
    p += 2 + length
  }
  return null
}

/**
 * Decodes a PNG or JPEG (recognised by content, not name) to RGBA. Reads the size from the header
 * first and refuses images over `maxPixels`; any decoder failure becomes a DATASET_ERROR naming `file`.
 */
export function decodeImage(
  bytes: Uint8Array,
  file: string,
  maxPixels = MAX_IMAGE_PIXELS
): RgbaImage {
  const format = sniffImage(bytes)
  if (!format)
    fail(
      `${file} is not a PNG or JPEG image (its first bytes say otherwise). Remove or convert it.`,
      file
    )
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes)
  if (!size)
    fail(
      `${file} is a truncated or damaged ${format.toUpperCase()} (no image size in its header). Remove or re-save it.`,
      file
    )
  const [width, height] = size
  if (width === 0 || height === 0)
    fail(`${file} declares ${width}×${height} pixels; an image needs at least 1×1.`, file)
  if (width * height > maxPixels) {
    fail(
      `${file} is ${width}×${height} pixels, more than the ${maxPixels.toLocaleString('en-US')} ` +
        'pixels an image may have here. Shrink it before importing.',
      file
    )
  }
  let out: RgbaImage
  try {
    if (format === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      out = { width: png.width, height: png.height, data: png.data }
    } else {
      const jpg = decodeJpeg(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        tolerantDecoding: false,
        maxResolutionInMP: maxPixels / 1_000_000,
        maxMemoryUsageInMB: JPEG_MAX_MEMORY_MIB
      })
      out = { width: jpg.width, height: jpg.height, data: jpg.data }
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    fail(
      `${file} could not be decoded as ${format.toUpperCase()} (${reason}). Remove or re-save it.`,
      file
    )
  }
  if (out.width !== width || out.height !== height || out.data.length !== width * height * 4) {
    fail(
      `${file} decoded to a different size than its header declares. Remove or re-save it.`,
      file
    )
  }
  return out
}

/**
 * Resizes RGBA to `size`×`size` by averaging each target pixel's box of source pixels (nearest
 * pixel when enlarging), blends transparency over black, and keeps 1 (luma) or 3 channels.
 */
export function toChannels(img: RgbaImage, size: number, channels: 1 | 3): Uint8Array {
  const out = new Uint8Array(size * size * channels)
  const { width, height, data } = img
  for (let ty = 0; ty < size; ty++) {
    const y0 = Math.floor((ty * height) / size)
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * height) / size))
    for (let tx = 0; tx < size; tx++) {
      const x0 = Math.floor((tx * width) / size)
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * width) / size))
      let r = 0
      let g = 0
      let b = 0
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const p = (y * width + x) * 4
          const a = data[p + 3] / 255
          r += data[p] * a
          g += data[p + 1] * a
          b += data[p + 2] * a
        }
      }
      const n = (y1 - y0) * (x1 - x0)
      const o = (ty * size + tx) * channels
      if (channels === 1) {
        out[o] = Math.round((0.299 * r + 0.587 * g + 0.114 * b) / n)
      } else {
        out[o] = Math.round(r / n)
        out[o + 1] = Math.round(g / n)
        out[o + 2] = Math.round(b / n)
      }
    }
  }
  return out
}
