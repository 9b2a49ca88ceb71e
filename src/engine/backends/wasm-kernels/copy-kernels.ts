import { slice_util, util } from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapOf, replacing, type WasmBackendLike } from './heap'
import type { ConvGradModule } from './native-module'

interface TypedHeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array
  readSync(dataId: object): ArrayLike<number>
}

/**
 * GatherV2 for the wasm backend with a fast path for whole rows (axis 0, no batch dims: a
 * training batch taken from the data set by index), copied one row at a time. tfjs's wasm
 * kernel computes every element's source by integer division (about 2 ms for 64 MNIST
 * images, a tenth of a LeNet-5 step). Other axes and dtypes go to tfjs's kernel.
 */
export function gatherConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x, indices } = args.inputs
    const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number }
    const rowsOnly =
      x &&
      indices &&
      (x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool') &&
      indices.dtype === 'int32' &&
      x.shape.length >= 1 &&
      util.parseAxisParam(axis, x.shape)[0] === 0 &&
      !batchDims
    if (!rowsOnly) return original.kernelFunc(args) as TensorInfo
    const backend = args.backend as unknown as TypedHeapBackend
    const rows = x.shape[0]!
    const ids = backend.readSync(indices.dataId)
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!
      if (!(id >= 0 && id <= rows - 1)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`)
    }
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype)
    const rowSize = util.sizeFromShape(x.shape.slice(1))
    if (rowSize === 0 || ids.length === 0) return out
    // Both views are taken after makeOutput, which may grow (and detach) the heap.
    const from = backend.typedArrayFromHeap(x)
    const to = backend.typedArrayFromHeap(out)
    for (let i = 0; i < ids.length; i++) to.set(from.subarray(ids[i]! * rowSize, (ids[i]! + 1) * rowSize), i * rowSize)
    return out
  }
  return replacing(original, kernelFunc)
}

/**
 * Slice for the wasm backend, copying only the slice: tfjs's wasm kernel reads the whole input
 * out of the heap first (readSync copies it), so taking a 256-image batch of the 10,000 test
 * images copied all 31 MB for each batch. The slice is copied as runs of its innermost partial
 * dimension (with the full dimensions after it). Strings go to tfjs's kernel.
 */
export function sliceConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x } = args.inputs
    if (!x || x.dtype === 'string' || x.shape.length === 0) return original.kernelFunc(args) as TensorInfo
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] }
    const [start, extent] = slice_util.parseSliceParams(x as never, begin, size)
    slice_util.assertParamsValid(x as never, start, extent)
    const backend = args.backend as unknown as TypedHeapBackend
    const out = backend.makeOutput(extent, x.dtype)
    if (util.sizeFromShape(extent) === 0) return out
    const rank = x.shape.length
    const strides = [...util.computeStrides(x.shape), 1]
    // Dimensions from `inner` on form one contiguous run in the input.
    let inner = rank - 1
    while (inner > 0 && extent[inner] === x.shape[inner]) inner--
    const run = extent[inner]! * strides[inner]!
    const from = backend.typedArrayFromHeap(x)
    const to = backend.typedArrayFromHeap(out)
    const outer = util.sizeFromShape(extent.slice(0, inner))
    const index = new Array<number>(inner).fill(0)
    for (let r = 0; r < outer; r++) {
      let offset = start[inner]! * strides[inner]!
      for (let d = 0; d < inner; d++) offset += (start[d]! + index[d]!) * strides[d]!
      to.set(from.subarray(offset, offset + run), r * run)
      for (let d = inner - 1; d >= 0 && ++index[d]! === extent[d]; d--) index[d] = 0
    }
    return out
  }
  return replacing(original, kernelFunc)
}

/**
 * A permutation that keeps the first dimensions and swaps the two groups of dimensions after
 * them, as one batched matrix transpose: [0, 3, 1, 2] (NHWC -> NCHW, before a PyTorch-order
 * Flatten) is batch = N, rows = H * W, cols = C; [0, 2, 3, 1] is its gradient. Null otherwise.
 */
export function batchedTranspose(
  shape: readonly number[],
  perm: readonly number[]
): { batch: number; rows: number; cols: number } | null {
  const n = shape.length
  if (perm.length !== n) return null
  let k = 0
  while (k < n && perm[k] === k) k++
  if (k >= n - 1) return null
  const m = perm[k]!
  if (m <= k || m >= n) return null
  const want = [...Array.from({ length: n - m }, (_, i) => m + i), ...Array.from({ length: m - k }, (_, i) => k + i)]
  if (want.some((d, i) => perm[k + i] !== d)) return null
  const size = (from: number, to: number): number => shape.slice(from, to).reduce((a, b) => a * b, 1)
  return { batch: size(0, k), rows: size(k, m), cols: size(m, n) }
}

/**
 * Transpose for the wasm backend with a fast path for float32 permutations that are a batched
 * matrix transpose (batchedTranspose), by 4 x 4 register blocks (native/copy.c): the flatten of
 * a 64 x 14 x 14 x 32 map took 0.4 ms forward and 0.6 ms backward in tfjs's kernel. Other
 * permutations and dtypes go to tfjs's kernel.
 */
export function transposeConfig(native: (backend: unknown) => ConvGradModule, original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x } = args.inputs
    const { perm } = args.attrs as unknown as { perm: number[] }
    const dims = x && x.dtype === 'float32' ? batchedTranspose(x.shape, perm) : null
    if (!x || !dims) return original.kernelFunc(args) as TensorInfo
    const wasm = args.backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(perm.map((d) => x.shape[d]!), 'float32')
    if (dims.batch * dims.rows * dims.cols === 0) return out
    native(args.backend).transposeBatched(heapOf(wasm, x), heapOf(wasm, out), dims)
    return out
  }
  return replacing(original, kernelFunc)
}
