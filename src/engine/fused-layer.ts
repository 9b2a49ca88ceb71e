// A conv layer (conv + bias + activation) as one op on the wasm backend: one kernel forward,
// and backward one pass for the activation's gradient plus the two convolution gradients and
// the bias sum. tfjs fuses a conv layer only with a linear activation while it records
// gradients, so a relu or tanh layer otherwise runs Conv2D, Add and the activation forward and
// Step, Cast, Multiply (relu) or Square, Sub, Multiply (tanh) backward, each a full pass over
// the layer's output. Other backends keep tfjs's own ops (model.ts asks fusedLayerAvailable).
import { tf } from './tf'
import {
  ACTIVATION_GRAD,
  CONV_BIAS_ACTIVATION,
  LAYER_ACTIVATIONS,
  type ConvBiasActivationAttrs
} from './backends/wasm-kernels/layer-kernels'
import type { Activation } from '../shared/model/spec'

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]]

/** Whether a layer with this activation runs as the fused op on the current backend. */
export function fusedLayerAvailable(activation: Activation): boolean {
  return (
    (LAYER_ACTIVATIONS as readonly string[]).includes(activation) &&
    tf.getBackend() === 'wasm' &&
    tf.getKernel(CONV_BIAS_ACTIVATION, 'wasm') !== undefined
  )
}

/** act(conv2d(x, filter) + bias), NHWC, dilation 1; bias null for a layer without one. */
export function convBiasActivation(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  strides: [number, number],
  pad: Pad,
  activation: Activation
): tf.Tensor4D {
  const attrs = {
    strides,
    pad,
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
    activation,
    hasBias: bias !== null
  }
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter }
  return tf.engine().runKernel(CONV_BIAS_ACTIVATION, inputs, attrs as never) as tf.Tensor4D
}

tf.registerGradient({
  kernelName: CONV_BIAS_ACTIVATION,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D]
    const { strides, pad, dimRoundingMode, activation, hasBias } = attrs as unknown as ConvBiasActivationAttrs
    const grad = dy as tf.Tensor4D
    // Computed once, here, for all three inputs' gradients (each runs in its own tidy); with a
    // bias, its gradient (dz summed over all but the channels) comes from the same pass.
    let dz = grad
    let db: tf.Tensor | null = null
    if (activation !== 'linear') {
      const out = tf.engine().runKernel(ACTIVATION_GRAD, { dy: grad, y }, { activation, channelSum: hasBias === true } as never)
      ;[dz, db] = Array.isArray(out) ? (out as [tf.Tensor4D, tf.Tensor]) : [out as tf.Tensor4D, null]
    }
    const conv = { strides, pad, dataFormat: 'NHWC', dimRoundingMode }
    return {
      x: () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, { ...conv, inputShape: x.shape } as never) as tf.Tensor,
      filter: () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...conv, filterShape: filter.shape } as never) as tf.Tensor,
      bias: () => db ?? tf.sum(dz, [0, 1, 2])
    }
  }
})
