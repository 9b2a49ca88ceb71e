import { tf } from '../tf'
import type { Layer, ModelSpec } from '../../shared/model/spec'
import { BATCH_NORM_EPSILON, activate, pairOf, type BuiltModel } from '../model'

// Uses model.ts's ops and constants, so every layer's output here equals the model's.

/** How many variables each layer owns, in the order buildModel creates them. */
function variableCount(layer: Layer): number {
  if (layer.type === 'conv2d' || layer.type === 'dense') return layer.useBias ? 2 : 1
  if (layer.type === 'batchNorm') return 4
  return 0
}

/**
 * Runs the model in inference mode and returns every layer's output, up to and including layer
 * `last` (default: all). The caller disposes the tensors (or runs inside tf.tidy).
 */
export function forwardLayers(spec: ModelSpec, model: BuiltModel, x: tf.Tensor4D, last = spec.layers.length - 1): tf.Tensor[] {
  return forwardRange(spec, model, x, 0, last)
}

/** Runs layers `first`..end on `y` (the output of layer first − 1) and returns the model's output. */
export function forwardFrom(spec: ModelSpec, model: BuiltModel, y: tf.Tensor, first: number): tf.Tensor {
  const outputs = forwardRange(spec, model, y, first, spec.layers.length - 1)
  return outputs[outputs.length - 1] ?? y
}

function forwardRange(spec: ModelSpec, model: BuiltModel, x: tf.Tensor, first: number, last: number): tf.Tensor[] {
  const outputs: tf.Tensor[] = []
  let y: tf.Tensor = x
  let v = spec.layers.slice(0, first).reduce((n, l) => n + variableCount(l), 0)
  for (let i = first; i <= last; i++) {
    const layer = spec.layers[i]
    const vars = model.variables.slice(v, v + variableCount(layer))
    v += vars.length
    switch (layer.type) {
      case 'conv2d': {
        const stride = pairOf(layer.stride)
        const pad =
          typeof layer.padding === 'number'
            ? ([[0, 0], [layer.padding, layer.padding], [layer.padding, layer.padding], [0, 0]] as [[0, 0], [number, number], [number, number], [0, 0]])
            : layer.padding
        let out = tf.conv2d(y as tf.Tensor4D, vars[0] as tf.Tensor4D, stride, pad)
        if (layer.useBias) out = tf.add(out, vars[1])
        y = activate(out, layer.activation)
        break
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        const size = pairOf(layer.poolSize)
        const stride = pairOf(layer.stride ?? layer.poolSize)
        const op = layer.type === 'maxPool2d' ? tf.maxPool : tf.avgPool
        y = op(y as tf.Tensor4D, size, stride, 'valid')
        break
      }
      case 'flatten':
        y = y.rank === 4 ? tf.reshape(tf.transpose(y, [0, 3, 1, 2]), [y.shape[0], -1]) : tf.reshape(y, [y.shape[0], -1])
        break
      case 'dense': {
        let out = tf.matMul(y as tf.Tensor2D, vars[0] as tf.Tensor2D)
        if (layer.useBias) out = tf.add(out, vars[1])
        y = activate(out, layer.activation)
        break
      }
      case 'dropout':
        break
      case 'activation':
        y = activate(y, layer.fn)
        break
      case 'batchNorm': {
        const [gamma, beta, mean, variance] = vars
        y = tf.batchNorm(y, mean, variance, beta, gamma, BATCH_NORM_EPSILON)
        break
      }
    }
    outputs.push(y)
  }
  return outputs
}
