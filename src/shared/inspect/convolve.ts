/** A square convolution kernel of odd size, row-major. */
export interface Kernel {
  size: number
  values: number[]
}

/** A ready-made kernel for the convolution playground. */
export interface KernelPreset extends Kernel {
  id: string
  title: string
  note: string
}

const k = (id: string, title: string, note: string, rows: number[][], scale = 1): KernelPreset => ({
  id,
  title,
  note,
  size: rows.length,
  values: rows.flat().map((v) => v * scale)
})

/** The playground's presets, in menu order. */
export const KERNEL_PRESETS: readonly KernelPreset[] = [
  k('identity', 'Identity', 'Copies the image: only the centre weight is 1.', [
    [0, 0, 0],
    [0, 1, 0],
    [0, 0, 0]
  ]),
  k('box', 'Box blur', 'Averages each pixel with its 8 neighbours.', [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 1]
  ], 1 / 9),
  k('gaussian', 'Gaussian blur (5×5)', 'A weighted average that favours near pixels: a softer blur.', [
    [1, 4, 6, 4, 1],
    [4, 16, 24, 16, 4],
    [6, 24, 36, 24, 6],
    [4, 16, 24, 16, 4],
    [1, 4, 6, 4, 1]
  ], 1 / 256),
  k('sharpen', 'Sharpen', 'Adds the difference from the neighbours back: edges get crisper.', [
    [0, -1, 0],
    [-1, 5, -1],
    [0, -1, 0]
  ]),
  k('sobel-x', 'Sobel x', 'Responds to vertical edges: dark-to-bright from left to right is positive.', [
    [-1, 0, 1],
    [-2, 0, 2],
    [-1, 0, 1]
  ]),
  k('sobel-y', 'Sobel y', 'Responds to horizontal edges: dark-to-bright from top to bottom is positive.', [
    [-1, -2, -1],
    [0, 0, 0],
    [1, 2, 1]
  ]),
  k('laplacian', 'Laplacian', 'Second derivative: large wherever the brightness bends, zero on flat areas.', [
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 0]
  ]),
  k('emboss', 'Emboss', 'Lights the image from the top left: a relief effect.', [
    [-2, -1, 0],
    [-1, 1, 1],
    [0, 1, 2]
  ])
]

/**
 * Cross-correlates a row-major image with a kernel, zero-padded so the output keeps the input's
 * size ("same"), as a CNN's convolution layer does (no kernel flip).
 */
export function convolve(image: ArrayLike<number>, width: number, height: number, kernel: Kernel): Float32Array {
  const out = new Float32Array(width * height)
  const r = (kernel.size - 1) / 2
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0
      for (let ky = 0; ky < kernel.size; ky++) {
        const yy = y + ky - r
        if (yy < 0 || yy >= height) continue
        for (let kx = 0; kx < kernel.size; kx++) {
          const xx = x + kx - r
          if (xx < 0 || xx >= width) continue
          s += image[yy * width + xx] * kernel.values[ky * kernel.size + kx]
        }
      }
      out[y * width + x] = s
    }
  }
  return out
}

/** max(0, v) for every value. */
export function relu(values: ArrayLike<number>): Float32Array {
  return Float32Array.from(values, (v) => Math.max(0, v))
}

/** 2×2 max pooling with stride 2 ("valid": an odd last row or column is dropped). */
export function maxPool2(values: ArrayLike<number>, width: number, height: number): { data: Float32Array; width: number; height: number } {
  const ow = Math.floor(width / 2)
  const oh = Math.floor(height / 2)
  const data = new Float32Array(ow * oh)
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = 2 * y * width + 2 * x
      data[y * ow + x] = Math.max(values[i], values[i + 1], values[i + width], values[i + width + 1])
    }
  }
  return { data, width: ow, height: oh }
}

/** One product of the sum that gives an output pixel. */
export interface Term {
  /** Offset from the output pixel, in pixels. */
  dx: number
  dy: number
  /** Input value under the kernel weight (0 outside the image: zero padding). */
  pixel: number
  weight: number
  product: number
}

/** The arithmetic behind output pixel (x, y): every pixel × weight product and their sum. */
export function pixelArithmetic(
  image: ArrayLike<number>,
  width: number,
  height: number,
  kernel: Kernel,
  x: number,
  y: number
): { terms: Term[]; sum: number } {
  const r = (kernel.size - 1) / 2
  const terms: Term[] = []
  let sum = 0
  for (let ky = 0; ky < kernel.size; ky++) {
    for (let kx = 0; kx < kernel.size; kx++) {
      const xx = x + kx - r
      const yy = y + ky - r
      const inside = xx >= 0 && xx < width && yy >= 0 && yy < height
      const pixel = inside ? image[yy * width + xx] : 0
      const weight = kernel.values[ky * kernel.size + kx]
      terms.push({ dx: kx - r, dy: ky - r, pixel, weight, product: pixel * weight })
      sum += pixel * weight
    }
  }
  return { terms, sum }
}

/**
 * Reads a typed kernel: 9 or 25 numbers separated by spaces, commas or new lines; each may be a
 * fraction such as 1/16. Returns the kernel or a message saying what to fix.
 */
export function parseKernel(text: string): { kernel: Kernel } | { error: string } {
  const tokens = text.split(/[\s,;]+/).filter(Boolean)
  const values: number[] = []
  for (const t of tokens) {
    const m = /^([-+]?\d*\.?\d+(?:e[-+]?\d+)?)(?:\/([-+]?\d*\.?\d+))?$/i.exec(t)
    const v = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN
    if (!Number.isFinite(v)) return { error: `"${t}" is not a number. Use numbers like 2, -0.5 or 1/9.` }
    values.push(v)
  }
  if (values.length !== 9 && values.length !== 25) {
    return { error: `A kernel needs 9 numbers (3×3) or 25 (5×5); you typed ${values.length}.` }
  }
  return { kernel: { size: values.length === 9 ? 3 : 5, values } }
}
