import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core'
import { heapOf, replacing, type DisposingBackend, type WasmBackendLike } from './heap'
import type { ConvGradModule } from './native-module'

/** The product of all but the last two dimensions (the batch of matrices). */
const batchOf = (shape: number[]): number => shape.slice(0, -2).reduce((p, d) => p * d, 1)

/** op(a) [m, k] x op(b) [k2, n] of one pair of float32 matrices; null for anything else. */
interface Pair {
  m: number
  n: number
  k: number
  k2: number
  /** The product's shape: [1, ..., m, n] at the larger operand's rank. */
  shape: number[]
}
function singlePair(x: TensorInfo | undefined, y: TensorInfo | undefined, transposeA?: boolean, transposeB?: boolean): Pair | null {
  if (
    !x ||
    !y ||
    x.dtype !== 'float32' ||
    y.dtype !== 'float32' ||
    x.shape.length < 2 ||
    y.shape.length < 2 ||
    batchOf(x.shape) !== 1 ||
    batchOf(y.shape) !== 1
  )
    return null
  const [ar, ac] = x.shape.slice(-2) as [number, number]
  const [br, bc] = y.shape.slice(-2) as [number, number]
  const [m, k] = transposeA ? [ac, ar] : [ar, ac]
  const [k2, n] = transposeB ? [bc, br] : [br, bc]
  const rank = Math.max(x.shape.length, y.shape.length)
  return { m, n, k, k2, shape: [...Array(rank - 2).fill(1), m, n] }
}

/**
 * BatchMatMul for the wasm backend. One pair of float32 matrices (every dense layer's product
 * and gradients, the convolution routes' products) runs in native/gemm.c, transposes included:
 * tfjs's XNNPACK path packs the second operand anew on every call, 1.2 ms for lenet's 32 x 784
 * x 120 forward product. Batches of matrices go to tfjs's kernel, with transposed operands
 * transposed first: tfjs runs XNNPACK only when neither side is transposed and a scalar loop
 * otherwise, ten times slower.
 */
export function batchMatMulConfig(
  native: (backend: unknown) => ConvGradModule,
  original: KernelConfig,
  transpose: KernelConfig
): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { inputs, backend, attrs } = args
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean }
    const { a: x, b: y } = inputs
    const pair = singlePair(x, y, transposeA, transposeB)
    if (pair) {
      const { m, n, k, k2 } = pair
      if (k !== k2) throw new Error(`BatchMatMul: inner sizes ${k} and ${k2} of ${x!.shape} and ${y!.shape} differ.`)
      const wasm = backend as unknown as WasmBackendLike
      const out = wasm.makeOutput(pair.shape, 'float32')
      native(backend).matmul(heapOf(wasm, x), heapOf(wasm, y), heapOf(wasm, out), {
        m,
        n,
        k,
        transposeA: !!transposeA,
        transposeB: !!transposeB
      })
      return out
    }
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

/**
 * _FusedMatMul (a dense layer's forward: product, bias, relu or linear) for the wasm backend:
 * one pair of float32 matrices runs in native/gemm.c and the bias and activation in one pass
 * over the output (native/activation.c), instead of XNNPACK, which packs the weights anew on
 * every call (convnet's 64 x 6272 x 10 product: 0.73 ms). Anything else (batches of matrices,
 * other activations, a bias that is not one value per column) goes to tfjs's kernel.
 */
export function fusedMatMulConfig(native: (backend: unknown) => ConvGradModule, original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { inputs, backend, attrs } = args
    const { transposeA, transposeB, activation } = attrs as {
      transposeA?: boolean
      transposeB?: boolean
      activation?: string
    }
    const { a: x, b: y, bias, preluActivationWeights } = inputs
    const act = activation === 'relu' || activation === 'linear' || activation === undefined ? (activation ?? 'linear') : null
    const pair = singlePair(x, y, transposeA, transposeB)
    if (!pair || act === null || preluActivationWeights) return original.kernelFunc(args) as TensorInfo
    const { m, n, k, k2 } = pair
    // One bias value per output column, whatever leading 1s its shape has.
    const perColumn = !bias || (bias.dtype === 'float32' && bias.shape.at(-1) === n && bias.shape.slice(0, -1).every((d) => d === 1))
    if (k !== k2 || !perColumn) return original.kernelFunc(args) as TensorInfo
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(pair.shape, 'float32')
    const module = native(backend)
    module.matmul(heapOf(wasm, x), heapOf(wasm, y), heapOf(wasm, out), { m, n, k, transposeA: !!transposeA, transposeB: !!transposeB })
    if (bias || act === 'relu') {
      // Views into the heap detach when it grows, so the output is looked up again.
      const values = heapOf(wasm, out)
      module.biasActivation(values, n, values, { bias: bias ? heapOf(wasm, bias) : undefined, activation: act })
    }
    return out
  }
  return replacing(original, kernelFunc)
}
