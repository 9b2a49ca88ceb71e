/** Base64 from the contract to bytes. */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** Image `index` of an NHWC byte block as RGBA pixels; grey images repeat their one channel. */
export function toRgba(
  bytes: Uint8Array,
  index: number,
  shape: readonly [number, number, number]
): Uint8ClampedArray<ArrayBuffer> {
  const [channels, height, width] = shape
  const pixels = height * width
  const base = index * pixels * channels
  const out = new Uint8ClampedArray(pixels * 4)
  for (let p = 0; p < pixels; p++) {
    const src = base + p * channels
    const r = bytes[src]
    out[p * 4] = r
    out[p * 4 + 1] = channels === 3 ? bytes[src + 1] : r
    out[p * 4 + 2] = channels === 3 ? bytes[src + 2] : r
    out[p * 4 + 3] = 255
  }
  return out
}

/** Draws image `index` at its own size; where a canvas has no 2D context, draws nothing. */
export function paint(
  canvas: HTMLCanvasElement,
  bytes: Uint8Array,
  index: number,
  shape: readonly [number, number, number]
): void {
  let ctx: CanvasRenderingContext2D | null = null
  try {
    ctx = typeof canvas.getContext === 'function' ? canvas.getContext('2d') : null
  } catch {
    ctx = null
  }
  if (!ctx || typeof ImageData === 'undefined') return
  const [, height, width] = shape
  canvas.width = width
  canvas.height = height
  ctx.putImageData(new ImageData(toRgba(bytes, index, shape), width, height), 0, 0)
}
