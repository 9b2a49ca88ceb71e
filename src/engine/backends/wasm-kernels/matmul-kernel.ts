import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core'
import { replacing, type DisposingBackend } from './heap'

/**
 * BatchMatMul for the wasm backend that hands transposed operands to tfjs's fast path: tfjs
 * runs XNNPACK only when neither side is transposed and a scalar loop otherwise, which made
 * the dense-layer gradients (x^T dy, dy w^T) ten times slower than the forward pass.
 */
export function batchMatMulConfig(original: KernelConfig, transpose: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { inputs, backend, attrs } = args
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean }
    if (!transposeA && !transposeB) return original.kernelFunc(args) as TensorInfo
    const temps: TensorInfo[] = []
    const swapLast = (x: TensorInfo | undefined): TensorInfo => {
      if (!x) throw new Error('BatchMatMul was called without both operands.')
      const rank = x.shape.length
      const perm = [...Array(rank).keys()]
      perm[rank - 2] = rank - 1
      perm[rank - 1] = rank - 2
      const t = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo
      temps.push(t)
      return t
    }
    const a = transposeA ? swapLast(inputs.a) : inputs.a!
    const b = transposeB ? swapLast(inputs.b) : inputs.b!
    try {
      const plainAttrs = { ...attrs, transposeA: false, transposeB: false } as NamedAttrMap
      return original.kernelFunc({ inputs: { a, b }, backend, attrs: plainAttrs }) as TensorInfo
    } finally {
      for (const t of temps) (backend as unknown as DisposingBackend).disposeData(t.dataId)
    }
  }
  return replacing(original, kernelFunc)
}
