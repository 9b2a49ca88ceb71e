import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from './index'
import { createLeNet } from '../lenet-reference'
import { maxAbsDiff, randomArray } from './test-helpers'

const TOLERANCE = 1e-4
const BATCH = 64

/** Loss and every variable's gradient of the reference LeNet on the active backend. */
async function lenetGradients(
  weights: Float32Array[] | null,
  x: Float32Array,
  labels: Int32Array,
  fused: boolean
): Promise<{ loss: number; grads: Float32Array[]; weights: Float32Array[] }> {
  const net = createLeNet(7, { fused })
  if (weights) net.variables.forEach((v, i) => v.assign(tf.tensor(weights[i]!, v.shape)))
  const xs = tf.tensor4d(x, [BATCH, 28, 28, 1])
  const ys = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32')
  ) as tf.Tensor2D
  const { value, grads } = tf.variableGrads(() => net.loss(xs, ys), net.variables)
  const out = {
    loss: (await value.data())[0]!,
    grads: await Promise.all(
      net.variables.map(async (v) => (await grads[v.name]!.data()) as Float32Array)
    ),
    weights: await Promise.all(net.variables.map(async (v) => (await v.data()) as Float32Array))
  }
  tf.dispose([value, xs, ys, ...Object.values(grads)])
  net.dispose()
  return out
}

describe('LeNet training gradients', () => {
  it.each([false, true])(
    'are the same on wasm (with the project kernels) as on cpu (fused ops: %s)',
    async (fused) => {
      const x = randomArray(BATCH * 28 * 28, 0.5, 3).map((v) => v + 0.5)
      const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10)
      await tf.setBackend('cpu')
      const cpu = await lenetGradients(null, x, labels, fused)
      registerWasmKernels()
      await tf.setBackend('wasm')
      const wasm = await lenetGradients(cpu.weights, x, labels, fused)
      expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(TOLERANCE)
      cpu.grads.forEach((g, i) => {
        expect(wasm.grads[i]!.length).toBe(g.length)
        expect(maxAbsDiff(wasm.grads[i]!, g)).toBeLessThan(TOLERANCE)
      })
    }
  )
})
