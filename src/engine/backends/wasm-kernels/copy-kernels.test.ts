import { beforeAll, describe, expect, it, vi } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from './index'
import { batchedTranspose } from './copy-kernels'
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

describe('Slice on wasm (only the slice copied)', () => {
  beforeAll(async () => {
    registerWasmKernels()
    await tf.setBackend('wasm')
  })

  const values = randomArray(5 * 4 * 3 * 2, 1, 11)
  const x4 = (): tf.Tensor4D => tf.tensor4d(values, [5, 4, 3, 2])
  const cases: Array<[string, () => tf.Tensor]> = [
    ['a batch of images (axis 0, one run)', () => tf.slice(x4(), [1, 0, 0, 0], [3, -1, -1, -1])],
    ['rows and columns of every image (strided runs)', () => tf.slice(x4(), [0, 1, 1, 0], [5, 2, 2, -1])],
    ['one channel (runs of one value)', () => tf.slice(x4(), [2, 0, 0, 1], [2, 4, 3, 1])],
    ['the whole tensor', () => tf.slice(x4(), [0, 0, 0, 0], [-1, -1, -1, -1])],
    ['a 1-D int32 range', () => tf.slice(tf.tensor1d([9, 8, 7, 6, 5], 'int32'), [1], [3])],
    ['bool', () => tf.slice(tf.tensor2d([1, 0, 1, 1, 0, 0], [3, 2], 'bool'), [1, 1], [2, 1])],
    ['an empty slice', () => tf.slice(x4(), [5, 0, 0, 0], [0, -1, -1, -1])]
  ]
  for (const [label, make] of cases) {
    it(`matches cpu: ${label}`, async () => {
      const want = await gatherOn('cpu', make)
      const got = await gatherOn('wasm', make)
      expect(got.shape).toEqual(want.shape)
      expect(got.values).toEqual(want.values)
    })
  }

  it('copies the slice without reading the input out of the heap, and checks its bounds', () => {
    const x = x4()
    const backend = tf.backend() as unknown as { readSync: (id: object) => unknown }
    const readSync = vi.spyOn(backend, 'readSync')
    const part = tf.slice(x, [1, 0, 0, 0], [1, -1, -1, -1])
    expect(readSync).not.toHaveBeenCalled()
    readSync.mockRestore()
    expect(Array.from(part.dataSync())).toEqual(Array.from(values.subarray(24, 48)))
    expect(() => tf.slice(x, [4, 0, 0, 0], [2, -1, -1, -1])).toThrow(/would overflow input.shape\[0\] \(5\)/)
  })
})

describe('Transpose on wasm (batched matrix transposes by 4 x 4 blocks)', () => {
  beforeAll(async () => {
    registerWasmKernels()
    await tf.setBackend('wasm')
  })

  it('recognises permutations that swap two groups of trailing dimensions', () => {
    expect(batchedTranspose([64, 14, 14, 32], [0, 3, 1, 2])).toEqual({ batch: 64, rows: 196, cols: 32 })
    expect(batchedTranspose([64, 32, 14, 14], [0, 2, 3, 1])).toEqual({ batch: 64, rows: 32, cols: 196 })
    expect(batchedTranspose([5, 7], [1, 0])).toEqual({ batch: 1, rows: 5, cols: 7 })
    expect(batchedTranspose([2, 3, 4, 5], [0, 1, 3, 2])).toEqual({ batch: 6, rows: 4, cols: 5 })
    expect(batchedTranspose([2, 3, 4], [2, 0, 1])).toEqual({ batch: 1, rows: 6, cols: 4 })
    expect(batchedTranspose([2, 3, 4], [1, 0, 2])).toBeNull()
    expect(batchedTranspose([2, 3, 4], [0, 1, 2])).toBeNull()
    expect(batchedTranspose([2, 3, 4, 5], [0, 3, 2, 1])).toBeNull()
  })

  const x = randomArray(3 * 5 * 7 * 6, 1, 11)
  const cases: Array<[string, () => tf.Tensor]> = [
    ['NHWC -> NCHW, sides not multiples of 4', () => tf.transpose(tf.tensor4d(x, [3, 5, 7, 6]), [0, 3, 1, 2])],
    ['NCHW -> NHWC', () => tf.transpose(tf.tensor4d(x, [3, 6, 5, 7]), [0, 2, 3, 1])],
    ['a 2-D matrix with 4 x 4 blocks and tails', () => tf.transpose(tf.tensor2d(x.subarray(0, 9 * 13), [9, 13]))],
    ['rows of 4 exactly', () => tf.transpose(tf.tensor3d(x.subarray(0, 2 * 8 * 12), [2, 8, 12]), [0, 2, 1])],
    ['a permutation that is no matrix transpose (tfjs\'s kernel)', () => tf.transpose(tf.tensor3d(x.subarray(0, 60), [3, 4, 5]), [1, 0, 2])],
    ['int32 (tfjs\'s kernel)', () => tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'))],
    ['an empty tensor', () => tf.transpose(tf.zeros([0, 3, 4, 2]), [0, 3, 1, 2])]
  ]
  for (const [label, make] of cases) {
    it(`matches cpu: ${label}`, async () => {
      const want = await gatherOn('cpu', make)
      const got = await gatherOn('wasm', make)
      expect(got).toEqual(want)
    })
  }
})
