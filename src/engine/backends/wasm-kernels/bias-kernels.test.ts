import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from './index'
import { maxAbsDiff, randomArray } from './test-helpers'

const TOLERANCE = 1e-4

async function onBoth(f: () => tf.Tensor): Promise<[Float32Array, Float32Array, number[]]> {
  await tf.setBackend('cpu')
  const want = tf.tidy(f)
  const wantValues = (await want.data()) as Float32Array
  await tf.setBackend('wasm')
  const got = tf.tidy(f)
  const gotValues = (await got.data()) as Float32Array
  expect(got.shape).toEqual(want.shape)
  const shape = got.shape
  tf.dispose([want, got])
  return [gotValues, wantValues, shape]
}

describe('wasm bias Add and Sum fast paths', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm')
    registerWasmKernels()
  })

  const SHAPES = [
    [128, 28, 28, 6],
    [3, 5, 7],
    [128, 120],
    [2, 1, 1, 17],
    // Periods of lcm(channels, 4) floats in native/bias.c: 4 for one channel, 20 for 10.
    [1000, 1],
    [30, 10, 10]
  ]
  for (const [i, shape] of SHAPES.entries()) {
    const c = shape[shape.length - 1]!
    const size = shape.reduce((p, q) => p * q, 1)
    const x = randomArray(size, 1, 90 + i)
    const b = randomArray(c, 1, 95 + i)
    it(`adds a bias of ${c} to ${JSON.stringify(shape)} either way round`, async () => {
      const [got, want] = await onBoth(() => tf.add(tf.tensor(x, shape), tf.tensor1d(b)))
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
      const [got2, want2] = await onBoth(() => tf.add(tf.tensor1d(b), tf.tensor(x, shape)))
      expect(maxAbsDiff(got2, want2)).toBeLessThan(TOLERANCE)
    })
    it(`sums ${JSON.stringify(shape)} over all but the last axis, with and without keepDims`, async () => {
      const axes = shape.slice(0, -1).map((_, k) => k)
      const scale = 1 / Math.sqrt(size / c)
      const [got, want] = await onBoth(() => tf.sum(tf.mul(tf.tensor(x, shape), scale), axes))
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
      const [got2, want2, keptShape] = await onBoth(() =>
        tf.sum(tf.mul(tf.tensor(x, shape), scale), axes, true)
      )
      expect(keptShape).toEqual([...axes.map(() => 1), c])
      expect(maxAbsDiff(got2, want2)).toBeLessThan(TOLERANCE)
    })
  }

  it('leaves other adds and sums to tfjs', async () => {
    const [got, want] = await onBoth(() => tf.add(tf.ones([2, 3]), tf.ones([2, 1])))
    expect(maxAbsDiff(got, want)).toBe(0)
    const [got2, want2] = await onBoth(() => tf.sum(tf.reshape(tf.range(0, 24), [2, 3, 4]), [1, 2]))
    expect(maxAbsDiff(got2, want2)).toBe(0)
    const [got3, want3] = await onBoth(() =>
      tf.sum(tf.reshape(tf.range(0, 24, 1, 'int32'), [6, 4]), 0)
    )
    expect(maxAbsDiff(got3, want3)).toBe(0)
  })
})
