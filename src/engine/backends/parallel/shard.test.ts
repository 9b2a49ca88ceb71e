import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { gatherBatch, loadWeights, lossAndGradients } from './shard'

describe('loadWeights', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`overwrites every variable from the flat weights on ${backend}, as new tensors, never a tensor that shared its data`, async () => {
      await tf.setBackend(backend)
      const [a, b] = tf.tidy(() => [tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2])), tf.variable(tf.tensor1d([5, 6, 7]))])
      if (!a || !b) throw new Error('no variables')
      // A reshape shares b's data on both backends: it must keep the old values.
      const view = tf.reshape(b, [3, 1])
      const dataIdOfA = a.dataId
      const before = tf.memory().numTensors
      loadWeights([a, b], Float32Array.from([10, 20, 30, 40, 50, 60, 70]))
      expect(Array.from(await a.data())).toEqual([10, 20, 30, 40])
      expect(Array.from(await b.data())).toEqual([50, 60, 70])
      expect(Array.from(await view.data())).toEqual([5, 6, 7])
      // A new tensor: kernels that cache what they derived from a weight tensor (XNNPACK's
      // packed filters) must see a different tensor, not the same one with other values.
      expect(a.dataId === dataIdOfA).toBe(false)
      expect(tf.memory().numTensors).toBe(before)
      tf.dispose([a, b, view])
    })
  }

  it('leaves XNNPACK inference with the new weights (wasm FusedConv2D after a reload)', async () => {
    await tf.setBackend('wasm')
    const [w] = tf.tidy(() => [tf.variable(tf.ones([1, 1, 1, 4]))])
    if (!w) throw new Error('no variable')
    const x = tf.ones([1, 2, 2, 1])
    const conv = (): number[] => tf.tidy(() => Array.from(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'valid', activation: 'relu' }).dataSync()))
    expect(conv().slice(0, 4)).toEqual([1, 1, 1, 1])
    loadWeights([w], Float32Array.from([2, 3, 4, 5]))
    expect(conv().slice(0, 4)).toEqual([2, 3, 4, 5])
    tf.dispose([w, x])
  })
})

describe('gatherBatch and lossAndGradients', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`gathers images and one-hot labels by index as tf.oneHot does (a bad label: zeros) on ${backend}`, async () => {
      await tf.setBackend(backend)
      const data = {
        images: Float32Array.from({ length: 4 * 2 * 2 }, (_, i) => i),
        imageShape: [2, 2, 1] as [number, number, number],
        labels: Int32Array.from([2, 0, 7, -1]),
        numClasses: 3
      }
      const { x, y } = gatherBatch(data, Int32Array.from([3, 0, 2, 0]))
      expect(x.shape).toEqual([4, 2, 2, 1])
      expect(Array.from(await x.data())).toEqual([12, 13, 14, 15, 0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3])
      const want = tf.oneHot(tf.tensor1d([-1, 2, 7, 2], 'int32'), 3)
      expect(y.dtype).toBe('float32')
      expect(Array.from(await y.data())).toEqual(Array.from(await want.data()))
      tf.dispose([x, y, want])
    })

    it(`writes every variable's gradient into the flat array, in order, on ${backend}`, async () => {
      await tf.setBackend(backend)
      const [a, b] = tf.tidy(() => [tf.variable(tf.tensor1d([1, 2])), tf.variable(tf.tensor2d([[3], [4]]))])
      if (!a || !b) throw new Error('no variables')
      const out = new Float32Array(4)
      const before = tf.memory().numTensors
      // loss = sum(a^2) + 3 * sum(b): gradients 2a and 3.
      const r = lossAndGradients([a, b], () => ({ loss: tf.add(tf.sum(tf.square(a)), tf.mul(3, tf.sum(b))) as tf.Scalar }), out)
      expect(Array.from(out)).toEqual([2, 4, 3, 3])
      expect(r.loss).toBe(1 + 4 + 21)
      expect(tf.memory().numTensors).toBe(before)
      tf.dispose([a, b])
    })
  }
})
