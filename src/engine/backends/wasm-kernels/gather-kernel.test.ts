import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from './index'
import { randomArray } from './test-helpers'

/** tf.gather on a backend, as plain values and shape. */
async function gatherOn(backend: string, make: () => tf.Tensor): Promise<{ values: number[]; shape: number[] }> {
  await tf.setBackend(backend)
  const out = tf.tidy(make)
  const result = { values: Array.from(await out.data()), shape: out.shape }
  out.dispose()
  return result
}

describe('GatherV2 on wasm (whole rows copied by index)', () => {
  beforeAll(async () => {
    registerWasmKernels()
    await tf.setBackend('wasm')
  })

  const images = randomArray(7 * 4 * 3 * 2, 1, 9)
  const cases: Array<[string, () => tf.Tensor]> = [
    ['a batch of images, indices repeated and out of order', () => tf.gather(tf.tensor4d(images, [7, 4, 3, 2]), tf.tensor1d([6, 0, 3, 3, 1], 'int32'))],
    ['int32 labels', () => tf.gather(tf.tensor1d([5, 4, 3, 2, 1], 'int32'), tf.tensor1d([4, 0, 2], 'int32'))],
    ['2-D indices', () => tf.gather(tf.tensor2d(images.subarray(0, 12), [6, 2]), tf.tensor2d([1, 5, 0, 2], [2, 2], 'int32'))],
    ['axis 1 (tfjs\'s kernel)', () => tf.gather(tf.tensor2d(images.subarray(0, 12), [3, 4]), tf.tensor1d([3, 0], 'int32'), 1)],
    ['no indices', () => tf.gather(tf.tensor2d(images.subarray(0, 12), [6, 2]), tf.tensor1d([], 'int32'))]
  ]
  for (const [label, make] of cases) {
    it(`matches cpu: ${label}`, async () => {
      const want = await gatherOn('cpu', make)
      const got = await gatherOn('wasm', make)
      expect(got).toEqual(want)
    })
  }

  it('rejects an index outside the rows, as tfjs does', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2])
    expect(() => tf.gather(x, tf.tensor1d([2], 'int32'))).toThrow(/index value 2 is not in \[0, 1\]/)
    expect(() => tf.gather(x, tf.tensor1d([-1], 'int32'))).toThrow(/index value -1/)
  })
})
