import { backend_util } from '@tensorflow/tfjs-core'
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo
} from '@tensorflow/tfjs-core'
import type { ConvGeometry, ConvGradModule } from './native-module'
import { heapOf as heap, type WasmBackendLike } from './heap'

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

/** Conv2DBackpropFilter for the wasm backend, computed by the project's SIMD kernel. */
export function conv2dBackpropFilterConfig(
  native: (backend: unknown) => ConvGradModule
): KernelConfig {
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
    native(backend).backpropFilter(heap(wasm, x), heap(wasm, dy), geometry(info), heap(wasm, out))
    return out
  }
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc }
}

interface DisposingBackend {
  disposeData(dataId: object): boolean
}

/**
 * With stride 1 the input gradient is a forward convolution of dy with the filter rotated
 * 180 degrees and its channel axes swapped, padded by filter - 1 - pad; tfjs's XNNPACK Conv2D
 * runs that far faster than any loop of ours. Returns null where that does not apply.
 */
function viaForwardConv(
  conv2d: KernelConfig,
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo
): TensorInfo | null {
  const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co, padInfo } = info
  const pads = [
    fh - 1 - padInfo.top,
    fh - 1 - padInfo.bottom,
    fw - 1 - padInfo.left,
    fw - 1 - padInfo.right
  ]
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || pads.some((p) => p < 0)) return null
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1)
    return null
  const flipped = backend.makeOutput([fh, fw, co, ci], 'float32')
  try {
    const src = heap(backend, filter)
    const dst = heap(backend, flipped)
    for (let h = 0; h < fh; h++) {
      for (let w = 0; w < fw; w++) {
        const from = ((fh - 1 - h) * fw + (fw - 1 - w)) * ci * co
        const to = (h * fw + w) * co * ci
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) dst[to + o * ci + i] = src[from + i * co + o]!
      }
    }
    const pad = [
      [0, 0],
      [pads[0], pads[1]],
      [pads[2], pads[3]],
      [0, 0]
    ]
    const attrs = {
      strides: [1, 1],
      pad,
      dataFormat: 'NHWC',
      dilations: [1, 1]
    } as unknown as NamedAttrMap
    return conv2d.kernelFunc({
      inputs: { x: dy, filter: flipped },
      backend: backend as never,
      attrs
    }) as TensorInfo
  } finally {
    ;(backend as unknown as DisposingBackend).disposeData(flipped.dataId)
  }
}

/** Conv2DBackpropInput for the wasm backend, replacing tfjs's scalar C++ loop. */
export function conv2dBackpropInputConfig(
  native: (backend: unknown) => ConvGradModule,
  conv2d?: KernelConfig
): KernelConfig {
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
    const fast = conv2d && dy && filter ? viaForwardConv(conv2d, wasm, dy, filter, info) : null
    if (fast) return fast
    const out = wasm.makeOutput(inputShape, 'float32')
    native(backend).backpropInput(
      heap(wasm, dy),
      heap(wasm, filter),
      geometry(info),
      heap(wasm, out)
    )
    return out
  }
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc }
}
