/** An RGB colour, each channel 0–255. */
export type Rgb = [number, number, number]

const NEGATIVE: Rgb = [33, 102, 172]
const ZERO: Rgb = [247, 247, 247]
const POSITIVE: Rgb = [178, 24, 43]
/** Stops of a dark-to-bright sequential scale (viridis-like). */
const SEQUENTIAL: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37]
]

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  Math.round(a[0] + (b[0] - a[0]) * t),
  Math.round(a[1] + (b[1] - a[1]) * t),
  Math.round(a[2] + (b[2] - a[2]) * t)
]

/** Blue for negative, white for zero, red for positive; |v| ≥ absMax is fully saturated. */
export function divergingColor(v: number, absMax: number): Rgb {
  if (!(absMax > 0)) return [...ZERO]
  const t = Math.max(-1, Math.min(1, v / absMax))
  return t < 0 ? mix(ZERO, NEGATIVE, -t) : mix(ZERO, POSITIVE, t)
}

/** Dark purple at `min` to yellow at `max`. */
export function sequentialColor(v: number, min: number, max: number): Rgb {
  const t = max > min ? Math.max(0, Math.min(1, (v - min) / (max - min))) : 0
  const pos = t * (SEQUENTIAL.length - 1)
  const i = Math.min(SEQUENTIAL.length - 2, Math.floor(pos))
  return mix(SEQUENTIAL[i], SEQUENTIAL[i + 1], pos - i)
}

/** RGBA bytes for a map: diverging around zero when it has negative values, sequential otherwise. */
export function mapToRgba(values: ArrayLike<number>, min: number, max: number, diverging = min < 0): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length * 4)
  const absMax = Math.max(Math.abs(min), Math.abs(max))
  for (let i = 0; i < values.length; i++) {
    const c = diverging ? divergingColor(values[i], absMax) : sequentialColor(values[i], min, max)
    out[i * 4] = c[0]
    out[i * 4 + 1] = c[1]
    out[i * 4 + 2] = c[2]
    out[i * 4 + 3] = 255
  }
  return out
}
