import * as tf from '@tensorflow/tfjs-core'
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core'
import type { ConvGeometry } from './native-module'

/** Deterministic uniform values in [-scale, scale) from a small LCG, for kernel tests. */
export function randomArray(length: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(length)
  let state = (seed * 2_654_435_761) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    out[i] = (state / 2 ** 32 - 0.5) * 2 * scale
  }
  return out
}

/**
 * Largest element-wise absolute difference of two equally long arrays. Arrays of different
 * lengths differ without limit (Infinity), so a kernel that writes too few or too many values
 * fails its tolerance check instead of passing on the common prefix; a NaN anywhere gives NaN.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let worst = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    if (Number.isNaN(d)) return Number.NaN
    worst = Math.max(worst, d)
  }
  return worst
}

/**
 * Runs one kernel on a backend (which must be registered) from plain arrays ([values, shape]
 * by input name), returning the output's values; every tensor made is disposed.
 */
export async function runKernelOn(
  backend: string,
  kernel: string,
  inputs: Record<string, [Float32Array, number[]]>,
  attrs: NamedAttrMap
): Promise<Float32Array> {
  await tf.setBackend(backend)
  const tensors: Record<string, Tensor> = {}
  for (const [name, [values, shape]] of Object.entries(inputs)) tensors[name] = tf.tensor(values, shape)
  const out = tf.engine().runKernel(kernel, tensors, attrs) as Tensor
  const values = (await out.data()) as Float32Array
  tf.dispose([out, ...Object.values(tensors)])
  return values
}

/** Largest absolute difference relative to the largest value wanted (for sums that round differently). */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!))
  return maxAbsDiff(got, want) / Math.max(scale, 1e-30)
}

/** The kernels' geometry of a stride-1 NHWC convolution of x [n, h, w, c] by a k x k x c x outC filter. */
export function convGeometry(x: [number, number, number, number], k: number, outC: number, pad: unknown): ConvGeometry {
  const [batch, inH, inW, inC] = x
  const info = tf.backend_util.computeConv2DInfo(x, [k, k, inC, outC], 1, 1, pad as never)
  return {
    batch,
    inH,
    inW,
    inC,
    outH: info.outHeight,
    outW: info.outWidth,
    outC,
    filterH: k,
    filterW: k,
    strideH: 1,
    strideW: 1,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left
  }
}
