import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-wasm'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import { registerWasmKernels } from './index'
import { createConvGradModule } from './native-module'
import { randomArray } from './test-helpers'

describe('wasm Tanh kernel', () => {
  const module = createConvGradModule()
  const tanhInto = (x: Float32Array, y: Float32Array): void => module.tanh(x, y)
  beforeAll(async () => {
    await tf.setBackend('wasm')
    registerWasmKernels()
  })

  // Evaluated in float32, as TensorFlow's own CPU tanh (the same Eigen function): about 3 ulps
  // of 1.0 at worst (1 ulp = 1.19e-7), where libm is within 1.
  it('is within 4e-7 (3 float32 ulps) of Math.tanh over [-20, 20], and keeps signs, zeros, infinities and NaN', () => {
    const xs = new Float32Array(400_001)
    for (let i = 0; i < xs.length; i++) xs[i] = -20 + (40 * i) / (xs.length - 1)
    const ys = new Float32Array(xs.length)
    tanhInto(xs, ys)
    let worst = 0
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(ys[i]! - Math.tanh(xs[i]!)))
    expect(worst).toBeLessThan(4e-7)
    const special = Float32Array.from([0, -0, 1e-30, -1e-5, Infinity, -Infinity, NaN, 3e38])
    const out = new Float32Array(special.length)
    tanhInto(special, out)
    expect(Object.is(out[1], -0)).toBe(true)
    expect(Array.from(out.slice(0, 4))).toEqual(Array.from(special.slice(0, 4)))
    expect(out[4]).toBeCloseTo(1, 6)
    expect(out[5]).toBeCloseTo(-1, 6)
    expect(out[6]).toBeNaN()
    expect(out[7]).toBeCloseTo(1, 6)
  })

  it('runs as the backend\'s Tanh, forward and through tfjs\'s gradient', () => {
    const values = randomArray(6 * 28 * 28, 3, 7)
    const x = tf.tensor4d(values, [1, 28, 28, 6])
    const y = tf.tanh(x)
    const want = values.map((v) => Math.tanh(v))
    const got = y.dataSync()
    let worst = 0
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!))
    expect(worst).toBeLessThan(4e-7)
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.tanh(t)))(x).dataSync()
    for (let i = 0; i < g.length; i += 97) expect(g[i]).toBeCloseTo(1 - want[i]! ** 2, 5)
    tf.dispose([x, y])
  })
})
