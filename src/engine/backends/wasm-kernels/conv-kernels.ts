import { backend_util } from '@tensorflow/tfjs-core'
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo
} from '@tensorflow/tfjs-core'
import type { ConvGeometry, ConvGradModule } from './native-module'

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
  typedArrayFromHeap(info: TensorInfo): Float32Array
}

function geometry(info: backend_util.Conv2DInfo): ConvGeometry {
  if (info.dataFormat !== 'channelsLast') {
    throw new Error('Convolution gradients on the wasm backend support NHWC data only.')
  }
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error('Convolution gradients on the wasm backend support dilation 1 only.')
  }
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left
  }
}

function heap(backend: WasmBackendLike, info: TensorInfo | undefined): Float32Array {
  if (!info) throw new Error('A convolution gradient kernel was called without an input.')
  if (info.dtype !== 'float32') throw new Error(`Expected a float32 tensor, got ${info.dtype}.`)
  return backend.typedArrayFromHeap(info)
}

/** Conv2DBackpropFilter for the wasm backend, computed by the project's SIMD kernel. */
export function conv2dBackpropFilterConfig(native: ConvGradModule): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x, dy } = inputs
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      attrs as unknown as Conv2DBackpropFilterAttrs
    const info = backend_util.computeConv2DInfo(
      (x?.shape ?? []) as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat)
    )
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(filterShape, 'float32')
    native.backpropFilter(heap(wasm, x), heap(wasm, dy), geometry(info), heap(wasm, out))
    return out
  }
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc }
}

/** Conv2DBackpropInput for the wasm backend, replacing tfjs's scalar C++ loop. */
export function conv2dBackpropInputConfig(native: ConvGradModule): KernelConfig {
  const kernelFunc = ({ inputs, backend, attrs }: Parameters<KernelFunc>[0]): TensorInfo => {
    const { dy, filter } = inputs
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      attrs as unknown as Conv2DBackpropInputAttrs
    const info = backend_util.computeConv2DInfo(
      inputShape,
      (filter?.shape ?? []) as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat)
    )
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(inputShape, 'float32')
    native.backpropInput(heap(wasm, dy), heap(wasm, filter), geometry(info), heap(wasm, out))
    return out
  }
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc }
}
