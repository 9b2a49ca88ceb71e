import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from './index'
import { maxAbsDiff, randomArray } from './test-helpers'

const TOLERANCE = 1e-4
const BATCH = 8
const LEAKY_SLOPE = 0.01
const BN_EPSILON = 1e-5

type Params = Record<string, tf.Variable>

const SHAPES: Record<string, number[]> = {
  k1: [3, 2, 3, 4], // non-square, strided, 'same'
  k2: [2, 3, 4, 5], // explicit padding
  k3: [3, 3, 5, 6], // 'valid'
  gamma: [6],
  beta: [6],
  w: [6 * 2 * 4, 10],
  b: [10]
}

/** Every layer type the workbench offers, chained, ending in softmax cross-entropy. */
function loss(p: Params, x: tf.Tensor4D, y: tf.Tensor2D, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    let h: tf.Tensor4D = tf.conv2d(x, p.k1 as tf.Tensor4D, [2, 1], 'same')
    h = tf.tanh(h)
    h = tf.conv2d(h, p.k2 as tf.Tensor4D, 1, [
      [0, 0],
      [1, 0],
      [0, 2],
      [0, 0]
    ])
    h = tf.leakyRelu(h, LEAKY_SLOPE)
    h = tf.avgPool(h, [2, 2], [1, 1], 'same')
    h = tf.sigmoid(h)
    h = tf.conv2d(h, p.k3 as tf.Tensor4D, 1, 'valid')
    h = tf.elu(h)
    const { mean, variance } = tf.moments(h, [0, 1, 2])
    h = tf.batchNorm(h, mean, variance, p.beta, p.gamma, BN_EPSILON) as tf.Tensor4D
    h = tf.relu(h)
    h = tf.maxPool(h, [2, 2], [2, 2], 'valid')
    // Dropout as the engine's tf.dropout computes it, with a fixed mask for determinism.
    h = tf.mul(h, mask) as tf.Tensor4D
    const flat = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [BATCH, -1]) as tf.Tensor2D
    const logits = tf.add(tf.matMul(flat, p.w as tf.Tensor2D), p.b)
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar
  })
}

async function gradients(
  backend: string,
  values: Record<string, Float32Array>,
  x: Float32Array,
  mask: Float32Array
): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend)
  const params: Params = {}
  for (const [name, shape] of Object.entries(SHAPES))
    params[name] = tf.variable(tf.tensor(values[name]!, shape))
  const xs = tf.tensor4d(x, [BATCH, 11, 10, 3])
  const ys = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: BATCH }, (_, i) => i % 10),
      'int32'
    ),
    10
  ) as tf.Tensor2D
  const maskT = tf.tensor(mask, [BATCH, 2, 4, 6])
  const { grads } = tf.variableGrads(
    () => loss(params, xs, tf.cast(ys, 'float32') as tf.Tensor2D, maskT),
    Object.values(params)
  )
  const out: Record<string, Float32Array> = {}
  for (const [name, v] of Object.entries(params))
    out[name] = (await grads[v.name]!.data()) as Float32Array
  tf.dispose([xs, ys, maskT, ...Object.values(grads), ...Object.values(params)])
  return out
}

describe('gradients of every layer type', () => {
  it('agree between wasm (with the project kernels) and cpu', async () => {
    registerWasmKernels()
    const values: Record<string, Float32Array> = {}
    Object.entries(SHAPES).forEach(([name, shape], i) => {
      const size = shape.reduce((a, b) => a * b, 1)
      values[name] =
        name === 'gamma' ? new Float32Array(size).fill(1) : randomArray(size, 0.5, 200 + i)
    })
    const x = randomArray(BATCH * 11 * 10 * 3, 1, 300)
    const mask = randomArray(BATCH * 2 * 4 * 6, 1, 301).map((v) => (v > -0.6 ? 1 / 0.8 : 0))
    const want = await gradients('cpu', values, x, mask)
    const got = await gradients('wasm', values, x, mask)
    for (const name of Object.keys(SHAPES)) {
      expect(maxAbsDiff(got[name]!, want[name]!), name).toBeLessThan(TOLERANCE)
    }
  })
})
