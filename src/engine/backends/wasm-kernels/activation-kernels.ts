import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import type { ConvGradModule } from './native-module'
import { heapOf as heap, type WasmBackendLike } from './heap'

/**
 * Tanh for the wasm backend by native/activation.c (Eigen's rational fit, SIMD); tfjs's
 * gradient (dy * (1 - y^2)) is unchanged.
 */
export function tanhConfig(native: (backend: unknown) => ConvGradModule): KernelConfig {
  const kernelFunc = ({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x } = inputs
    if (!x) throw new Error('Tanh was called without its input.')
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(x.shape, 'float32')
    native(backend).tanh(heap(wasm, x), heap(wasm, out))
    return out
  }
  return { kernelName: 'Tanh', backendName: 'wasm', kernelFunc }
}
