import { getKernel } from '@tensorflow/tfjs-core'
import type { Conv2DAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import type { ConvGradModule, KernelActivation } from './native-module'
import { asShape, batchMatMul, biasFits, forwardConvInfo, isDense, ownConvLayer } from './conv-kernels'
import { heapOf as heap, replacing, type WasmBackendLike } from './heap'

type Native = (backend: unknown) => ConvGradModule

/** Kernel names of the fused layer op (backends/fused-layer.ts) that only the wasm backend has. */
export const CONV_BIAS_ACTIVATION = 'CnnwbConvBiasActivation'
export const ACTIVATION_GRAD = 'CnnwbActivationGrad'

/** Activations the fused layer applies in its epilogue. */
export const LAYER_ACTIVATIONS: readonly KernelActivation[] = ['linear', 'relu', 'tanh']

/**
 * Attributes of CONV_BIAS_ACTIVATION: a Conv2D's, plus the activation, and whether the layer has
 * a bias (its gradient then takes the bias's from the activation-gradient pass).
 */
export type ConvBiasActivationAttrs = Conv2DAttrs & { activation: KernelActivation; hasBias?: boolean }

interface RefCountingBackend {
  incRef(dataId: object): void
}

/**
 * Identity without a copy: the output shares the input's data and takes a reference, as tfjs's
 * wasm Reshape does. tfjs's wasm Identity copies, and the engine's gradient tape clones every
 * tensor it saves for the backward pass through it (three full copies of each conv layer's
 * activations per step: about 4 of convnet's 67 ms at batch 32). Tensor data on this backend is
 * never written in place (variables take new data on assign), so sharing is safe. Strings and
 * other dtypes go to tfjs's kernel.
 */
export function identityConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { x } = args.inputs
    if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool'))
      return original.kernelFunc(args) as TensorInfo
    ;(args.backend as unknown as RefCountingBackend).incRef(x.dataId)
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
  }
  return replacing(original, kernelFunc)
}

/**
 * One conv layer's forward pass, conv + bias + activation, in one kernel where ours runs it
 * (Winograd or the direct kernel, the bias and activation applied as each output tile is
 * written); a conv whose filter covers its whole unpadded input (LeNet-5's third) as one
 * matrix product and a bias-and-activation pass; elsewhere tfjs's FusedConv2D (XNNPACK, with
 * the bias and a relu) followed by our Tanh where that is the activation.
 */
export function convBiasActivationConfig(native: Native): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { inputs, backend } = args
    const attrs = args.attrs as unknown as ConvBiasActivationAttrs
    const { x, filter, bias } = inputs
    const { activation } = attrs
    if (!LAYER_ACTIVATIONS.includes(activation))
      throw new Error(`${CONV_BIAS_ACTIVATION}: unknown activation ${String(activation)}.`)
    const wasm = backend as unknown as WasmBackendLike
    const info = forwardConvInfo(x, filter, attrs)
    const own = ownConvLayer(native, backend, inputs, info, activation)
    if (own) return own
    if (info && isDense(info) && biasFits(bias, info.outChannels)) {
      const k = info.filterHeight * info.filterWidth * info.inChannels
      const product = batchMatMul(backend, asShape(x!, [1, info.batchSize, k]), asShape(filter!, [1, k, info.outChannels]), false, false)
      if (product) {
        // The product is this kernel's own fresh tensor, so the epilogue may overwrite it.
        const values = heap(wasm, product)
        native(backend).biasActivation(values, info.outChannels, values, { bias: bias ? heap(wasm, bias) : undefined, activation })
        return asShape(product, [info.batchSize, 1, 1, info.outChannels])
      }
    }
    const fused = getKernel('FusedConv2D', 'wasm')
    if (!fused) throw new Error(`${CONV_BIAS_ACTIVATION} needs the wasm backend's FusedConv2D kernel.`)
    const out = fused.kernelFunc({
      inputs: bias ? { x, filter, bias } : { x, filter },
      backend,
      attrs: { ...attrs, activation: activation === 'tanh' ? 'linear' : activation } as never
    }) as TensorInfo
    // The output is this kernel's own fresh tensor, so tanh may overwrite it.
    if (activation === 'tanh') native(backend).tanh(heap(wasm, out), heap(wasm, out))
    return out
  }
  return { kernelName: CONV_BIAS_ACTIVATION, backendName: 'wasm', kernelFunc }
}

/**
 * dz = dy * activation'(x) from the activation's output y, in one pass (native/activation.c).
 * With the attribute `channelSum`, returns [dz, db]: db the sum of dz over all but the last
 * dimension (the layer's bias gradient), from the same pass instead of a Sum over dz.
 */
export function activationGradConfig(native: Native): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] => {
    const { dy, y } = args.inputs
    const { activation, channelSum } = args.attrs as unknown as { activation: KernelActivation; channelSum?: boolean }
    if (!LAYER_ACTIVATIONS.includes(activation))
      throw new Error(`${ACTIVATION_GRAD}: unknown activation ${String(activation)}.`)
    if (!dy || !y || dy.shape.join() !== y.shape.join())
      throw new Error(`${ACTIVATION_GRAD}: dy and y must have the same shape.`)
    const wasm = args.backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(dy.shape, 'float32')
    const channels = dy.shape.at(-1) ?? 0
    if (!channelSum || channels === 0) {
      native(args.backend).activationGrad(heap(wasm, dy), heap(wasm, y), heap(wasm, out), activation)
      return out
    }
    // Both outputs exist before any view is taken (an allocation may grow the heap).
    const sum = wasm.makeOutput([channels], 'float32')
    native(args.backend).activationGrad(heap(wasm, dy), heap(wasm, y), heap(wasm, out), activation, heap(wasm, sum))
    return [out, sum]
  }
  return { kernelName: ACTIVATION_GRAD, backendName: 'wasm', kernelFunc }
}
