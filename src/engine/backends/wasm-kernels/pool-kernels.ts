import { backend_util } from '@tensorflow/tfjs-core'
import type {
  AvgPoolGradAttrs,
  KernelConfig,
  KernelFunc,
  MaxPoolAttrs,
  MaxPoolGradAttrs,
  TensorInfo
} from '@tensorflow/tfjs-core'
import type { ConvGeometry, ConvGradModule } from './native-module'
import { heapOf, replacing, type DisposingBackend, type WasmBackendLike } from './heap'

/** MaxPoolGrad for the wasm backend, replacing tfjs's per-element loop with the project's kernel. */
export function maxPoolGradConfig(native: (backend: unknown) => ConvGradModule): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo => {
    const { dy, input } = inputs
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs
    const shape = (input?.shape ?? []) as [number, number, number, number]
    const info = backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad, dimRoundingMode)
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(shape, 'float32')
    native(backend).maxPoolGrad(
      heapOf(wasm, input),
      heapOf(wasm, dy),
      poolGeometry(info),
      heapOf(wasm, out)
    )
    return out
  }
  return { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc }
}

/**
 * MaxPool for the wasm backend where the windows tile the input (2 x 2 stride 2 on an even map:
 * every pooling layer of the presets): one pass of SIMD maxima (native/pool-grad.c), where
 * XNNPACK's took 1.2 ms for convnet's 64 x 28 x 28 x 32. Other windows go to tfjs's kernel.
 */
export function maxPoolConfig(native: (backend: unknown) => ConvGradModule, original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x } = args.inputs
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolAttrs
    if (!x || x.dtype !== 'float32' || x.shape.length !== 4) return original.kernelFunc(args) as TensorInfo
    const shape = x.shape as [number, number, number, number]
    const info = backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad, dimRoundingMode)
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return original.kernelFunc(args) as TensorInfo
    const wasm = args.backend as unknown as WasmBackendLike
    const out = wasm.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32')
    if (native(args.backend).maxPoolTiled(heapOf(wasm, x), poolGeometry(info), heapOf(wasm, out))) return out
    ;(args.backend as unknown as DisposingBackend).disposeData(out.dataId)
    return original.kernelFunc(args) as TensorInfo
  }
  return replacing(original, kernelFunc)
}

/** AvgPoolGrad for the wasm backend, replacing tfjs's per-element loop with the project's kernel. */
export function avgPoolGradConfig(native: (backend: unknown) => ConvGradModule): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo => {
    const { dy, input } = inputs
    const { filterSize, strides, pad } = attrs as unknown as AvgPoolGradAttrs
    const shape = (input?.shape ?? []) as [number, number, number, number]
    const info = backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad)
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(shape, 'float32')
    native(backend).avgPoolGrad(heapOf(wasm, dy), poolGeometry(info), heapOf(wasm, out))
    return out
  }
  return { kernelName: 'AvgPoolGrad', backendName: 'wasm', kernelFunc }
}

function poolGeometry(info: backend_util.Conv2DInfo): ConvGeometry {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('Pooling gradients on the wasm backend support dilation 1 only.')
  }
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    filterH: info.effectiveFilterHeight,
    filterW: info.effectiveFilterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left
  }
}
