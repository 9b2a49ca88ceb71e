import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { loadWeights } from './shard'

describe('loadWeights', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`overwrites every variable from the flat weights on ${backend}, never a tensor that shares its data`, async () => {
      await tf.setBackend(backend)
      // Built in a tidy, as the model's are: the initial values' tensors are gone afterwards.
      const [a, b] = tf.tidy(() => [tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2])), tf.variable(tf.tensor1d([5, 6, 7]))])
      if (!a || !b) throw new Error('no variables')
      // A reshape shares b's data on both backends: it must keep the old values.
      const view = tf.reshape(b, [3, 1])
      const dataIdOfA = a.dataId
      loadWeights([a, b], Float32Array.from([10, 20, 30, 40, 50, 60, 70]))
      expect(Array.from(await a.data())).toEqual([10, 20, 30, 40])
      expect(Array.from(await b.data())).toEqual([50, 60, 70])
      expect(Array.from(await view.data())).toEqual([5, 6, 7])
      // On wasm an unshared variable is written where it lies (no new tensor).
      expect(a.dataId === dataIdOfA).toBe(backend === 'wasm')
      const before = tf.memory().numTensors
      loadWeights([a, b], Float32Array.from([1, 1, 1, 1, 2, 2, 2]))
      expect(tf.memory().numTensors).toBe(before)
      expect(Array.from(await a.data())).toEqual([1, 1, 1, 1])
      expect(Array.from(await b.data())).toEqual([2, 2, 2])
      tf.dispose([a, b, view])
    })
  }
})
