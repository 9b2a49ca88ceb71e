import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'

/** The parts of tfjs-backend-wasm's BackendWasm the project's kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
  typedArrayFromHeap(info: TensorInfo): Float32Array
}

/** A float32 tensor's values as a view into the wasm backend's heap (no copy). */
export function heapOf(backend: WasmBackendLike, info: TensorInfo | undefined): Float32Array {
  if (!info) throw new Error('A wasm kernel was called without one of its inputs.')
  if (info.dtype !== 'float32') throw new Error(`Expected a float32 tensor, got ${info.dtype}.`)
  return backend.typedArrayFromHeap(info)
}

/** A backend that frees a tensor's data (temporaries a kernel makes and drops). */
export interface DisposingBackend {
  disposeData(dataId: object): boolean
}

/**
 * Our kernel in place of tfjs's `original`, keeping its setupFunc and disposeFunc: tfjs's wasm
 * kernels bind their wasm function in setupFunc, which tfjs runs only for kernels registered
 * when the backend starts, so a replacement that falls back to the original must carry it.
 */
export function replacing(original: KernelConfig, kernelFunc: KernelFunc): KernelConfig {
  return {
    kernelName: original.kernelName,
    backendName: 'wasm',
    kernelFunc,
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc
  }
}
