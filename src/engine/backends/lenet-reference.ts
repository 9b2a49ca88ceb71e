import * as tf from '@tensorflow/tfjs-core'

/** LeNet input: one 28x28 grey image. */
export const LENET_INPUT_SHAPE = [28, 28, 1] as const
/** LeNet output: ten digit classes. */
export const LENET_CLASSES = 10

/** The reference LeNet used by benchmarks and gradient tests, written with raw ops as the engine does. */
export interface LeNet {
  variables: tf.Variable[]
  /** Mean softmax cross-entropy of a batch [n, 28, 28, 1] against one-hot labels [n, 10]. */
  loss(x: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Scalar
  dispose(): void
}

/** Model factory in the form the parallel trainer's workers import: createModel({ seed, fused }). */
export function createModel(init: unknown): LeNet {
  const { seed, fused } = (init ?? {}) as { seed?: number; fused?: boolean }
  return createLeNet(seed ?? 0, { fused })
}

/** Builds LeNet (conv 6@3x3 pad 1, pool, conv 16@3x3 pad 1, pool, 120, 84, 10) with PyTorch's default init. */
export function createLeNet(seed: number, options: { fused?: boolean } = {}): LeNet {
  let next = seed
  const uniform = (shape: number[], fanIn: number): tf.Variable => {
    const bound = 1 / Math.sqrt(fanIn)
    return tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', next++)))
  }
  const c1 = uniform([3, 3, 1, 6], 9)
  const c1b = uniform([6], 9)
  const c2 = uniform([3, 3, 6, 16], 54)
  const c2b = uniform([16], 54)
  const d1 = uniform([784, 120], 784)
  const d1b = uniform([120], 784)
  const d2 = uniform([120, 84], 120)
  const d2b = uniform([84], 120)
  const d3 = uniform([84, 10], 84)
  const d3b = uniform([10], 84)
  const pad: [[0, 0], [1, 1], [1, 1], [0, 0]] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0]
  ]
  const variables = [c1, c1b, c2, c2b, d1, d1b, d2, d2b, d3, d3b]
  return {
    variables,
    loss(x, oneHot) {
      return tf.tidy(() => {
        // fused: conv/matMul, bias and relu as one kernel each way (fewer kernel launches).
        const conv = (a: tf.Tensor4D, w: tf.Variable, b: tf.Variable): tf.Tensor4D =>
          options.fused
            ? tf.fused.conv2d({
                x: a,
                filter: w as tf.Tensor4D,
                strides: 1,
                pad,
                bias: b,
                activation: 'relu'
              })
            : (tf.relu(tf.add(tf.conv2d(a, w as tf.Tensor4D, 1, pad), b)) as tf.Tensor4D)
        const dense = (
          a: tf.Tensor2D,
          w: tf.Variable,
          b: tf.Variable,
          relu: boolean
        ): tf.Tensor2D =>
          options.fused
            ? (tf.fused.matMul({
                a,
                b: w as tf.Tensor2D,
                bias: b,
                activation: relu ? 'relu' : 'linear'
              }) as tf.Tensor2D)
            : relu
              ? (tf.relu(tf.add(tf.matMul(a, w as tf.Tensor2D), b)) as tf.Tensor2D)
              : (tf.add(tf.matMul(a, w as tf.Tensor2D), b) as tf.Tensor2D)
        let h = tf.maxPool(conv(x, c1, c1b), 2, 2, 'valid')
        h = tf.maxPool(conv(h, c2, c2b), 2, 2, 'valid')
        // Channels-first flatten, as the engine does to match PyTorch's weight layout.
        let f = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [-1, 784]) as tf.Tensor2D
        f = dense(f, d1, d1b, true)
        f = dense(f, d2, d2b, true)
        const logits = dense(f, d3, d3b, false)
        return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar
      })
    },
    dispose() {
      variables.forEach((v) => v.dispose())
    }
  }
}
