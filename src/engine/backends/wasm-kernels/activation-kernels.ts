import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapOf as heap, type WasmBackendLike } from './heap'

// Eigen's float tanh (generic_fast_tanh_float): a 13/6 rational minimax fit on [-7.9, 7.9],
// within a few float32 ulps of tanh, and no exp: about four times faster than the wasm
// backend's libm tanhf, which made tanh LeNet-5's second most expensive kernel.
const CLAMP = 7.90531110763549805
const TINY = 0.0004
const A1 = 4.89352455891786e-3
const A3 = 6.37261928875436e-4
const A5 = 1.48572235717979e-5
const A7 = 5.12229709037114e-8
const A9 = -8.60467152213735e-11
const A11 = 2.00018790482477e-13
const A13 = -2.76076847742355e-16
const B0 = 4.89352518554385e-3
const B2 = 2.26843463243900e-3
const B4 = 1.18534705686654e-4
const B6 = 1.19825839466702e-6

/** tanh of every value of `x` into `y` (same length); NaN stays NaN. */
export function tanhInto(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const raw = x[i]!
    if (Math.abs(raw) < TINY) {
      y[i] = raw
      continue
    }
    const v = raw > CLAMP ? CLAMP : raw < -CLAMP ? -CLAMP : raw
    const x2 = v * v
    const p = v * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))))
    const q = B0 + x2 * (B2 + x2 * (B4 + x2 * B6))
    y[i] = p / q
  }
}

/** Tanh for the wasm backend; tfjs's gradient (dy * (1 - y^2)) is unchanged. */
export function tanhConfig(): KernelConfig {
  const kernelFunc = ({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x } = inputs
    if (!x) throw new Error('Tanh was called without its input.')
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(x.shape, 'float32')
    tanhInto(heap(wasm, x), heap(wasm, out))
    return out
  }
  return { kernelName: 'Tanh', backendName: 'wasm', kernelFunc }
}
