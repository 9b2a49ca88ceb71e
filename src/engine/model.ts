import { tf } from './tf'
import type { Activation, Layer, ModelSpec, Size } from '../shared/model/spec'
import type { WeightTensor } from '../shared/engine-protocol'
import { convBiasActivation, fusedLayerAvailable } from './fused-layer'

/** PyTorch's defaults, so a network here learns like the same network there. */
const LEAKY_RELU_SLOPE = 0.01
const BATCH_NORM_MOMENTUM = 0.1
/** Batch norm's epsilon, as PyTorch's; shared with the per-layer forward pass of inspection. */
export const BATCH_NORM_EPSILON = 1e-5

type Tensor = tf.Tensor

/** Running statistics a batch-norm layer updates after each training step. */
interface PendingStats {
  mean: Tensor
  variance: Tensor
  count: number
  movingMean: tf.Variable
  movingVariance: tf.Variable
}

interface LayerImpl {
  forward(x: Tensor, training: boolean, pending: PendingStats[]): Tensor
}

/** A network built from a model spec: its variables and a forward pass in NHWC. */
export interface BuiltModel {
  /** Trainable variables, in layer order. */
  trainable: tf.Variable[]
  /** Every variable, trainable and not (batch-norm running statistics), with stable names. */
  variables: tf.Variable[]
  /** Logits for a batch of images [n, h, w, c]. In training mode, call applyPendingStats after the step. */
  forward(x: Tensor, training: boolean): Tensor
  /** Folds this step's batch statistics into the batch-norm running averages. */
  applyPendingStats(): void
  dispose(): void
}

/** An integer or [height, width] size as a pair. */
export const pairOf = (s: Size): [number, number] => (Array.isArray(s) ? [s[0], s[1]] : [s, s])

/** Applies one activation with PyTorch's defaults (leaky ReLU slope 0.01, ELU alpha 1). */
export function activate(x: Tensor, fn: Activation): Tensor {
  switch (fn) {
    case 'relu':
      return tf.relu(x)
    case 'tanh':
      return tf.tanh(x)
    case 'sigmoid':
      return tf.sigmoid(x)
    case 'leakyRelu':
      return tf.leakyRelu(x, LEAKY_RELU_SLOPE)
    case 'elu':
      return tf.elu(x)
    case 'linear':
      return x
  }
}

/**
 * The activation to fuse into conv/matMul and bias (one kernel each way instead of three), or
 * null. TensorFlow.js has fused gradients for relu and linear only.
 */
function fusedActivation(fn: Activation): 'relu' | 'linear' | null {
  return fn === 'relu' || fn === 'linear' ? fn : null
}

/** A deterministic stream of seeds, so a run's initial weights depend on its seed alone. */
function seedStream(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0
    return s
  }
}

/** PyTorch's default init for conv and linear layers: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function uniformInit(shape: number[], fanIn: number, seed: number, name: string): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn)
  return tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seed), true, name))
}

/** Builds the network's variables and forward pass. Layer shapes must already be valid. */
export function buildModel(spec: ModelSpec, seed: number, runTag = 'm'): BuiltModel {
  const nextSeed = seedStream(seed + 1)
  const trainable: tf.Variable[] = []
  const variables: tf.Variable[] = []
  const layers: LayerImpl[] = []
  let pending: PendingStats[] = []
  // Shape of one sample as the engine sees it: NHWC for images, [n] once flat.
  let shape: number[] = [spec.input.height, spec.input.width, spec.input.channels]
  const track = (v: tf.Variable, isTrainable = true): tf.Variable => {
    variables.push(v)
    if (isTrainable) trainable.push(v)
    return v
  }

  spec.layers.forEach((layer: Layer, i) => {
    const name = (part: string): string => `${runTag}/layer${i}_${layer.type}/${part}`
    switch (layer.type) {
      case 'conv2d': {
        const [kh, kw] = pairOf(layer.kernelSize)
        const [sh, sw] = pairOf(layer.stride)
        const cin = shape[2]
        const fanIn = cin * kh * kw
        const kernel = track(uniformInit([kh, kw, cin, layer.filters], fanIn, nextSeed(), name('kernel')))
        const bias = layer.useBias
          ? track(uniformInit([layer.filters], fanIn, nextSeed(), name('bias')))
          : null
        const pad: 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]] =
          typeof layer.padding === 'number'
            ? [[0, 0], [layer.padding, layer.padding], [layer.padding, layer.padding], [0, 0]]
            : layer.padding
        const p = typeof layer.padding === 'number' ? layer.padding : 0
        const outH =
          layer.padding === 'same' ? Math.ceil(shape[0] / sh) : Math.floor((shape[0] + 2 * p - kh) / sh) + 1
        const outW =
          layer.padding === 'same' ? Math.ceil(shape[1] / sw) : Math.floor((shape[1] + 2 * p - kw) / sw) + 1
        shape = [outH, outW, layer.filters]
        const activation = layer.activation
        layers.push({
          forward: (x) => {
            if (fusedLayerAvailable(activation))
              return convBiasActivation(x as tf.Tensor4D, kernel as tf.Tensor4D, bias as tf.Tensor1D | null, [sh, sw], pad, activation)
            const fused = fusedActivation(activation)
            if (fused) {
              const conv = { x: x as tf.Tensor4D, filter: kernel as tf.Tensor4D, strides: [sh, sw] as [number, number], pad }
              return tf.fused.conv2d(bias ? { ...conv, bias, activation: fused } : { ...conv, activation: fused })
            }
            let y = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, [sh, sw], pad)
            if (bias) y = tf.add(y, bias)
            return activate(y, activation)
          }
        })
        break
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        const [ph, pw] = pairOf(layer.poolSize)
        const [sh, sw] = pairOf(layer.stride ?? layer.poolSize)
        shape = [Math.floor((shape[0] - ph) / sh) + 1, Math.floor((shape[1] - pw) / sw) + 1, shape[2]]
        const op = layer.type === 'maxPool2d' ? tf.maxPool : tf.avgPool
        layers.push({ forward: (x) => op(x as tf.Tensor4D, [ph, pw], [sh, sw], 'valid') })
        break
      }
      case 'flatten': {
        const wasImage = shape.length === 3
        shape = [shape.reduce((a, b) => a * b, 1)]
        const units = shape[0]
        // PyTorch flattens channels first; matching it keeps exported weights interchangeable.
        layers.push({
          forward: (x) =>
            wasImage ? tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [-1, units]) : tf.reshape(x, [-1, units])
        })
        break
      }
      case 'dense': {
        const fanIn = shape[0]
        const kernel = track(uniformInit([fanIn, layer.units], fanIn, nextSeed(), name('kernel')))
        const bias = layer.useBias ? track(uniformInit([layer.units], fanIn, nextSeed(), name('bias'))) : null
        shape = [layer.units]
        const activation = layer.activation
        layers.push({
          forward: (x) => {
            const fused = fusedActivation(activation)
            if (fused) {
              const mm = { a: x as tf.Tensor2D, b: kernel as tf.Tensor2D }
              return tf.fused.matMul(bias ? { ...mm, bias, activation: fused } : { ...mm, activation: fused })
            }
            let y = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D)
            if (bias) y = tf.add(y, bias)
            return activate(y, activation)
          }
        })
        break
      }
      case 'dropout': {
        const rate = layer.rate
        layers.push({ forward: (x, training) => (training && rate > 0 ? tf.dropout(x, rate) : x) })
        break
      }
      case 'activation': {
        const fn = layer.fn
        layers.push({ forward: (x) => activate(x, fn) })
        break
      }
      case 'batchNorm': {
        const c = shape[shape.length - 1]
        const gamma = track(tf.variable(tf.ones([c]), true, name('gamma')))
        const beta = track(tf.variable(tf.zeros([c]), true, name('beta')))
        const movingMean = track(tf.variable(tf.zeros([c]), false, name('moving_mean')), false)
        const movingVariance = track(tf.variable(tf.ones([c]), false, name('moving_variance')), false)
        const axes = shape.length === 3 ? [0, 1, 2] : [0]
        layers.push({
          forward: (x, training, out) => {
            if (!training) {
              return tf.batchNorm(x, movingMean, movingVariance, beta, gamma, BATCH_NORM_EPSILON)
            }
            const { mean, variance } = tf.moments(x, axes)
            const count = x.size / c
            out.push({ mean: tf.keep(mean), variance: tf.keep(variance), count, movingMean, movingVariance })
            return tf.batchNorm(x, mean, variance, beta, gamma, BATCH_NORM_EPSILON)
          }
        })
        break
      }
    }
  })

  return {
    trainable,
    variables,
    forward(x, training) {
      let y = x
      for (const layer of layers) y = layer.forward(y, training, pending)
      return y
    },
    applyPendingStats() {
      for (const s of pending) {
        tf.tidy(() => {
          // PyTorch keeps the unbiased variance in its running estimate.
          const unbiased = s.count > 1 ? tf.mul(s.variance, s.count / (s.count - 1)) : s.variance
          s.movingMean.assign(
            tf.add(tf.mul(s.movingMean, 1 - BATCH_NORM_MOMENTUM), tf.mul(s.mean, BATCH_NORM_MOMENTUM))
          )
          s.movingVariance.assign(
            tf.add(tf.mul(s.movingVariance, 1 - BATCH_NORM_MOMENTUM), tf.mul(unbiased, BATCH_NORM_MOMENTUM))
          )
        })
        s.mean.dispose()
        s.variance.dispose()
      }
      pending = []
    },
    dispose() {
      for (const s of pending) {
        s.mean.dispose()
        s.variance.dispose()
      }
      pending = []
      for (const v of variables) v.dispose()
    }
  }
}

/** Copies every variable out as plain typed arrays, for a checkpoint. */
export async function snapshotWeights(model: BuiltModel): Promise<WeightTensor[]> {
  return Promise.all(
    model.variables.map(async (v) => ({
      name: v.name,
      shape: v.shape.slice(),
      data: (await v.data()) as Float32Array
    }))
  )
}

/** Counts trainable and non-trainable parameters of a built model (for cross-checks). */
export function countParams(model: BuiltModel): { trainable: number; total: number } {
  const sum = (vs: tf.Variable[]): number => vs.reduce((a, v) => a + v.size, 0)
  return { trainable: sum(model.trainable), total: sum(model.variables) }
}
