import { backend_util, getKernel } from '@tensorflow/tfjs-core'
import type {
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo
} from '@tensorflow/tfjs-core'
import {
  directFits,
  foldFits,
  winogradFits,
  type ConvGeometry,
  type ConvGradModule,
  type KernelActivation
} from './native-module'
import { heapOf as heap, replacing, type DisposingBackend, type WasmBackendLike } from './heap'

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


/**
 * A convolution whose filter covers the whole unpadded input (one output position, as LeNet-5's
 * 5x5 conv on a 5x5 map) is a dense layer: with K = filterH * filterW * inChannels, the input
 * gradient is dy [n, outC] times the filter [K, outC] transposed, and the filter gradient x
 * [n, K] transposed times dy. Both run as one BatchMatMul; the forward-convolution route would
 * pad dy by filter - 1 on each side and do about filterH * filterW times the work.
 */
export function isDense(info: backend_util.Conv2DInfo): boolean {
  const { padInfo } = info
  return (
    info.outHeight === 1 &&
    info.outWidth === 1 &&
    info.inHeight === info.filterHeight &&
    info.inWidth === info.filterWidth &&
    padInfo.top === 0 &&
    padInfo.bottom === 0 &&
    padInfo.left === 0 &&
    padInfo.right === 0 &&
    info.dataFormat === 'channelsLast' &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1
  )
}

/** The same tensor data under another shape (what a wasm Reshape returns, without the copy). */
export function asShape(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype }
}

/** a [1, m, k] x b (transposed as asked), via the registered wasm BatchMatMul; null if none. */
export function batchMatMul(
  backend: unknown,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean
): TensorInfo | null {
  const matMul = getKernel('BatchMatMul', 'wasm')
  if (!matMul) return null
  const attrs = { transposeA, transposeB } as unknown as NamedAttrMap
  return matMul.kernelFunc({ inputs: { a, b }, backend: backend as never, attrs }) as TensorInfo
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
    const g = geometry(info)
    if (winogradFits(g)) {
      const out = wasm.makeOutput(filterShape, 'float32')
      native(backend).winogradBackpropFilter(heap(wasm, x), heap(wasm, dy), g, heap(wasm, out))
      return out
    }
    // Measured (fastest of 30, batch 32 to 64): the direct kernel's taps-by-channels tiles win
    // over one or two input channels (LeNet-5's first conv 0.71 -> 0.45 ms, 1 -> 6 3x3 0.30 ->
    // 0.22, cnn3's first 0.24 -> 0.20), tie at 3 and lose 10 % at 6 (LeNet-5's second).
    if (directWins(g) && g.inC <= 2) {
      const out = wasm.makeOutput(filterShape, 'float32')
      native(backend).directBackpropFilter(heap(wasm, x), heap(wasm, dy), g, heap(wasm, out))
      return out
    }
    if (isDense(info) && x && dy) {
      const k = info.filterHeight * info.filterWidth * info.inChannels
      const n = info.batchSize
      const dense = batchMatMul(backend, asShape(x, [1, n, k]), asShape(dy, [1, n, info.outChannels]), true, false)
      if (dense) return asShape(dense, filterShape)
    }
    const out = wasm.makeOutput(filterShape, 'float32')
    native(backend).backpropFilter(heap(wasm, x), heap(wasm, dy), g, heap(wasm, out))
    return out
  }
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc }
}

/** Which of the project's kernels runs a forward convolution; null: tfjs's own (XNNPACK). */
type ConvRoute = 'winograd' | 'direct'

/**
 * Where the direct kernel (native/direct.c) beats XNNPACK: stride 1 and at most 40 taps per
 * filter row (inC * filterW), where XNNPACK's narrow products cost most. Fastest of 30 runs at
 * batch 64 on the 2-core machine, XNNPACK -> direct: LeNet-5's first conv (1 -> 6, 5x5) 2.7 ->
 * 1.1 ms, its second (6 -> 16) 1.9 -> 1.4 ms, a 3 -> 32 3x3 conv 11.4 -> 8.0 ms, 1 -> 16 3x3
 * even (2.4); 16 -> 6 5x5 (80 taps a row) went the other way, 4.7 -> 5.4 ms.
 */
export function directWins(g: ConvGeometry): boolean {
  return directFits(g) && !winogradFits(g) && g.inC * g.filterW <= 40
}

/** The Conv2DInfo of a forward convolution of float32 tensors; null for other inputs. */
export function forwardConvInfo(
  x: TensorInfo | undefined,
  filter: TensorInfo | undefined,
  attrs: Conv2DAttrs
): backend_util.Conv2DInfo | null {
  if (!x || !filter || x.dtype !== 'float32' || filter.dtype !== 'float32') return null
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat)
  )
}

/** Whether a layer's bias (or none) is one float32 value per output channel. */
export function biasFits(bias: TensorInfo | undefined, channels: number): boolean {
  return !bias || (bias.dtype === 'float32' && bias.shape.reduce((a, b) => a * b, 1) === channels)
}

/** The geometry and route of a forward convolution that one of our kernels runs; else null. */
function ownConv(info: backend_util.Conv2DInfo): { g: ConvGeometry; route: ConvRoute } | null {
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1)
    return null
  const g = geometry(info)
  if (winogradFits(g)) return { g, route: 'winograd' }
  return directWins(g) ? { g, route: 'direct' } : null
}

/**
 * act(conv(x, filter) + bias) into a new output by Winograd or the direct kernel, the bias
 * (optional) and activation applied as each tile is written; null where neither takes the
 * convolution (info null, another route, or a bias that is not one value per output channel).
 */
export function ownConvLayer(
  native: (backend: unknown) => ConvGradModule,
  backend: unknown,
  inputs: { x?: TensorInfo; filter?: TensorInfo; bias?: TensorInfo },
  info: backend_util.Conv2DInfo | null,
  activation: KernelActivation
): TensorInfo | null {
  const own = info ? ownConv(info) : null
  if (!own || !biasFits(inputs.bias, own.g.outC)) return null
  const { g, route } = own
  const wasm = backend as unknown as WasmBackendLike
  const out = wasm.makeOutput([g.batch, g.outH, g.outW, g.outC], 'float32')
  const [x, filter, y] = [heap(wasm, inputs.x), heap(wasm, inputs.filter), heap(wasm, out)]
  const epilogue = { bias: inputs.bias ? heap(wasm, inputs.bias) : undefined, activation }
  if (route === 'winograd') native(backend).winogradConv2d(x, filter, g, y, epilogue)
  else native(backend).directConv2d(x, filter, g, y, epilogue)
  return out
}

/**
 * Conv2D for the wasm backend: 3x3 stride-1 convolutions over multiples of 4 channels run as
 * Winograd F(4x4, 3x3) (a quarter of the multiply-adds), small-channel stride-1 ones by the
 * direct kernel (directWins); every other geometry goes to tfjs's own kernel (XNNPACK),
 * `original`.
 */
export function conv2dConfig(
  native: (backend: unknown) => ConvGradModule,
  original: KernelConfig
): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] => {
    const { x, filter } = args.inputs
    const info = forwardConvInfo(x, filter, args.attrs as unknown as Conv2DAttrs)
    return ownConvLayer(native, args.backend, { x, filter }, info, 'linear') ?? original.kernelFunc(args)
  }
  return replacing(original, kernelFunc)
}

/**
 * FusedConv2D (conv + bias + activation: inference, and training with a linear activation) for
 * the wasm backend: the routes Conv2D takes with the bias and a relu or linear activation
 * applied as each output tile is written; other activations, prelu weights and geometries go
 * to tfjs's own kernel.
 */
export function fusedConv2dConfig(
  native: (backend: unknown) => ConvGradModule,
  original: KernelConfig
): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] => {
    const { inputs, attrs } = args
    const { activation } = attrs as unknown as { activation?: string }
    if ((activation !== 'relu' && activation !== 'linear') || inputs.preluActivationWeights)
      return original.kernelFunc(args)
    const info = forwardConvInfo(inputs.x, inputs.filter, attrs as unknown as Conv2DAttrs)
    return ownConvLayer(native, args.backend, inputs, info, activation) ?? original.kernelFunc(args)
  }
  return replacing(original, kernelFunc)
}

/**
 * With stride 1 the input gradient is a forward convolution of dy with the filter rotated
 * 180 degrees and its channel axes swapped, padded by filter - 1 - pad, run by the registered
 * Conv2D (taken where that runs as Winograd: a quarter of the multiply-adds, which beats the
 * one-pass fold). Returns null where that does not apply.
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

/**
 * The input gradient as one matrix product and a fold: cols = dy [n*outH*outW, outC] times the
 * filter [filterH*filterW*inC, outC] transposed, then col2im adds each row of cols onto the
 * input positions its window covers. Exactly the multiply-adds the gradient needs, for any
 * stride; stride-1 gradients fold in one pass instead (foldBackpropInput: no column buffer).
 */
function viaCol2im(
  native: ConvGradModule,
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  inputShape: number[]
): TensorInfo | null {
  const { batchSize: n, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info
  const k = fh * fw * info.inChannels
  const cols = batchMatMul(
    backend,
    asShape(dy, [1, n * oh * ow, info.outChannels]),
    asShape(filter, [1, k, info.outChannels]),
    false,
    true
  )
  if (!cols) return null
  try {
    const out = backend.makeOutput(inputShape, 'float32')
    native.col2im(heap(backend, cols), geometry(info), heap(backend, out))
    return out
  } finally {
    ;(backend as unknown as DisposingBackend).disposeData(cols.dataId)
  }
}

/** Whether the input gradient's flipped-filter convolution is one the Conv2D kernel runs as Winograd. */
function flippedRunsAsWinograd(info: backend_util.Conv2DInfo): boolean {
  const { padInfo } = info
  return winogradFits({
    ...geometry(info),
    inC: info.outChannels,
    outC: info.inChannels,
    padTop: info.filterHeight - 1 - padInfo.top,
    padLeft: info.filterWidth - 1 - padInfo.left
  }) && padInfo.bottom <= info.filterHeight - 1 && padInfo.right <= info.filterWidth - 1
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
    if (isDense(info) && dy && filter) {
      const k = info.filterHeight * info.filterWidth * info.inChannels
      const n = info.batchSize
      const dense = batchMatMul(backend, asShape(dy, [1, n, info.outChannels]), asShape(filter, [1, k, info.outChannels]), false, true)
      if (dense) return asShape(dense, inputShape)
    }
    if (!dy || !filter) throw new Error('Conv2DBackpropInput was called without dy or filter.')
    // Measured per geometry (fastest of 30 calls at batch 64): the flipped-filter forward
    // convolution wins where it runs as Winograd (16 -> 32 3x3: 1.1 ms, the fold 1.7); every
    // other stride-1 gradient folds in one pass (LeNet-5's second conv 14x14 -> 10x10: col2im
    // 2.6 -> 1.4 ms; 6 -> 16 5x5 'same': XNNPACK's forward route 12.2 -> 8.8); col2im (a
    // product, then the scatter) takes strided ones whose input is much larger than the output.
    if (flippedRunsAsWinograd(info)) {
      const fast = conv2d ? viaForwardConv(conv2d, wasm, dy, filter, info) : null
      if (fast) return fast
    }
    const g = geometry(info)
    if (foldFits(g)) {
      const out = wasm.makeOutput(inputShape, 'float32')
      native(backend).foldBackpropInput(heap(wasm, dy), heap(wasm, filter), g, heap(wasm, out))
      return out
    }
    if (info.inHeight * info.inWidth >= 1.5 * info.outHeight * info.outWidth) {
      const folded = viaCol2im(native(backend), wasm, dy, filter, info, inputShape)
      if (folded) return folded
    }
    const out = wasm.makeOutput(inputShape, 'float32')
    native(backend).backpropInput(heap(wasm, dy), heap(wasm, filter), g, heap(wasm, out))
    return out
  }
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc }
}
