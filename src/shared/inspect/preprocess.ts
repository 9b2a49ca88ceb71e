/** Side of an MNIST image, in pixels. */
export const MNIST_SIZE_PX = 28
/** Side of the box MNIST fits each digit into before centring, in pixels. */
export const MNIST_BOX_PX = 20
/** Ink below this level (0–1) does not count towards a drawing's bounding box. */
const INK_THRESHOLD = 0.05

/** Options for `preprocessDrawing`. */
export interface PreprocessOptions {
  /** Soften the result with a 3×3 Gaussian, like MNIST's anti-aliased strokes. */
  blur?: boolean
}

/**
 * Turns a drawing (row-major ink levels in [0, 1], ink = 1) into a 28×28 MNIST-style image: the
 * ink's bounding box is scaled to fit 20×20 keeping its aspect ratio (area averaging), then placed
 * so its centre of mass sits at the centre of the 28×28 field. An empty drawing gives zeros.
 */
export function preprocessDrawing(
  ink: ArrayLike<number>,
  width: number,
  height: number,
  opts: PreprocessOptions = {}
): Float32Array {
  const out = new Float32Array(MNIST_SIZE_PX * MNIST_SIZE_PX)
  let x0 = width
  let y0 = height
  let x1 = -1
  let y1 = -1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > INK_THRESHOLD) {
        if (x < x0) x0 = x
        if (x > x1) x1 = x
        if (y < y0) y0 = y
        if (y > y1) y1 = y
      }
    }
  }
  if (x1 < 0) return out
  const bw = x1 - x0 + 1
  const bh = y1 - y0 + 1
  const scale = MNIST_BOX_PX / Math.max(bw, bh)
  const dw = Math.max(1, Math.round(bw * scale))
  const dh = Math.max(1, Math.round(bh * scale))
  const patch = resampleArea(ink, width, x0, y0, bw, bh, dw, dh)
  let mass = 0
  let mx = 0
  let my = 0
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const v = patch[y * dw + x]
      mass += v
      mx += (x + 0.5) * v
      my += (y + 0.5) * v
    }
  }
  const centre = MNIST_SIZE_PX / 2
  const ox = Math.round(centre - mx / mass)
  const oy = Math.round(centre - my / mass)
  for (let y = 0; y < dh; y++) {
    const ty = y + oy
    if (ty < 0 || ty >= MNIST_SIZE_PX) continue
    for (let x = 0; x < dw; x++) {
      const tx = x + ox
      if (tx < 0 || tx >= MNIST_SIZE_PX) continue
      out[ty * MNIST_SIZE_PX + tx] = patch[y * dw + x]
    }
  }
  const result = opts.blur ? gaussianBlur3(out, MNIST_SIZE_PX, MNIST_SIZE_PX) : out
  for (let i = 0; i < result.length; i++) result[i] = Math.min(1, Math.max(0, result[i]))
  return result
}

/** Area-averaging resample of a crop (x0, y0, w × h) of a row-major image to dw × dh. */
export function resampleArea(
  src: ArrayLike<number>,
  stride: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  dw: number,
  dh: number
): Float32Array {
  const out = new Float32Array(dw * dh)
  const sx = w / dw
  const sy = h / dh
  for (let oy = 0; oy < dh; oy++) {
    const top = oy * sy
    const bottom = top + sy
    for (let ox = 0; ox < dw; ox++) {
      const left = ox * sx
      const right = left + sx
      let sum = 0
      for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
        const cy = Math.min(bottom, y + 1) - Math.max(top, y)
        for (let x = Math.floor(left); x < Math.ceil(right); x++) {
          const cx = Math.min(right, x + 1) - Math.max(left, x)
          sum += src[(y0 + y) * stride + x0 + x] * cx * cy
        }
      }
      out[oy * dw + ox] = sum / (sx * sy)
    }
  }
  return out
}

/** A 3×3 Gaussian blur ([1 2 1] ⊗ [1 2 1] / 16) with zero padding, rescaled to keep the peak. */
export function gaussianBlur3(src: Float32Array, width: number, height: number): Float32Array {
  const w = [1, 2, 1]
  const out = new Float32Array(src.length)
  let peakIn = 0
  let peakOut = 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy
        if (yy < 0 || yy >= height) continue
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx
          if (xx < 0 || xx >= width) continue
          s += src[yy * width + xx] * w[dy + 1] * w[dx + 1]
        }
      }
      out[y * width + x] = s / 16
      peakIn = Math.max(peakIn, src[y * width + x])
      peakOut = Math.max(peakOut, s / 16)
    }
  }
  if (peakOut > 0) for (let i = 0; i < out.length; i++) out[i] *= peakIn / peakOut
  return out
}
