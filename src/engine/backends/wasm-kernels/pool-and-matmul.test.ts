import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import type { NamedAttrMap } from '@tensorflow/tfjs-core'
import { createConvGradModule, registerWasmKernels } from './index'
import { maxAbsDiff, randomArray, runKernelOn } from './test-helpers'

const TOLERANCE = 1e-4

interface PoolCase {
  batch: number
  h: number
  w: number
  c: number
  filter: [number, number]
  stride: [number, number]
  pad: 'valid' | 'same'
}

const POOL_CASES: PoolCase[] = [
  { batch: 1, h: 4, w: 4, c: 1, filter: [2, 2], stride: [2, 2], pad: 'valid' },
  { batch: 2, h: 7, w: 5, c: 5, filter: [3, 3], stride: [2, 2], pad: 'same' },
  { batch: 3, h: 6, w: 9, c: 6, filter: [2, 3], stride: [1, 2], pad: 'valid' },
  { batch: 2, h: 9, w: 9, c: 17, filter: [3, 2], stride: [1, 1], pad: 'same' },
  { batch: 128, h: 28, w: 28, c: 6, filter: [2, 2], stride: [2, 2], pad: 'valid' },
  { batch: 128, h: 14, w: 14, c: 16, filter: [2, 2], stride: [2, 2], pad: 'valid' },
  // Windows that tile the map exactly (AvgPoolGrad stores each input once; 5 channels: the
  // last vector overlaps), and 2x2 windows that leave the last row and column out.
  { batch: 2, h: 6, w: 9, c: 5, filter: [2, 3], stride: [2, 3], pad: 'valid' },
  { batch: 2, h: 7, w: 7, c: 5, filter: [2, 2], stride: [2, 2], pad: 'valid' }
]

describe('wasm MaxPoolGrad, AvgPoolGrad and BatchMatMul', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm')
    registerWasmKernels()
  })

  for (const [i, c] of POOL_CASES.entries()) {
    it(`MaxPool matches cpu: batch ${c.batch}, ${c.h}x${c.w}x${c.c}, window ${c.filter}, stride ${c.stride}, ${c.pad}`, async () => {
      // Rounded inputs give ties; negative ones check the maximum does not start from 0.
      const x = randomArray(c.batch * c.h * c.w * c.c, 4, 150 + i).map(Math.round)
      const inputs: Record<string, [Float32Array, number[]]> = { x: [x, [c.batch, c.h, c.w, c.c]] }
      const attrs = { filterSize: c.filter, strides: c.stride, pad: c.pad } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'MaxPool', inputs, attrs)
      const got = await runKernelOn('wasm', 'MaxPool', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(maxAbsDiff(got, want)).toBe(0)
      // The project's kernel takes exactly the windows that tile the map over 4+ channels.
      const info = tf.backend_util.computePool2DInfo([c.batch, c.h, c.w, c.c], c.filter, c.stride, 1, c.pad)
      const tiles =
        c.pad === 'valid' &&
        c.stride[0] === c.filter[0] &&
        c.stride[1] === c.filter[1] &&
        c.h % c.filter[0] === 0 &&
        c.w % c.filter[1] === 0 &&
        c.c >= 4
      const g = {
        batch: c.batch, inH: c.h, inW: c.w, inC: c.c, outH: info.outHeight, outW: info.outWidth, outC: c.c,
        filterH: c.filter[0], filterW: c.filter[1], strideH: c.stride[0], strideW: c.stride[1],
        padTop: info.padInfo.top, padLeft: info.padInfo.left
      }
      const direct = new Float32Array(want.length)
      expect(createConvGradModule().maxPoolTiled(x, g, direct)).toBe(tiles)
      if (tiles) expect(maxAbsDiff(direct, want)).toBe(0)
    })

    it(`MaxPoolGrad matches cpu: batch ${c.batch}, ${c.h}x${c.w}x${c.c}, window ${c.filter}, stride ${c.stride}, ${c.pad}`, async () => {
      await tf.setBackend('cpu')
      const info = tf.backend_util.computePool2DInfo(
        [c.batch, c.h, c.w, c.c],
        c.filter,
        c.stride,
        1,
        c.pad
      )
      // Rounded inputs give ties inside windows, where the first maximum must win.
      const x = randomArray(c.batch * c.h * c.w * c.c, 4, 50 + i).map(Math.round)
      const dyShape = [c.batch, info.outHeight, info.outWidth, c.c]
      const dy = randomArray(
        dyShape.reduce((a, b) => a * b, 1),
        1,
        60 + i
      )
      const y = tf.tidy(
        () =>
          tf
            .maxPool(tf.tensor4d(x, [c.batch, c.h, c.w, c.c]), c.filter, c.stride, c.pad)
            .dataSync() as Float32Array
      )
      const inputs: Record<string, [Float32Array, number[]]> = {
        dy: [dy, dyShape],
        input: [x, [c.batch, c.h, c.w, c.c]],
        output: [y, dyShape]
      }
      const attrs = {
        filterSize: c.filter,
        strides: c.stride,
        pad: c.pad
      } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'MaxPoolGrad', inputs, attrs)
      const got = await runKernelOn('wasm', 'MaxPoolGrad', inputs, attrs)
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
    })
  }

  for (const [i, c] of POOL_CASES.entries()) {
    it(`AvgPoolGrad matches cpu: batch ${c.batch}, ${c.h}x${c.w}x${c.c}, window ${c.filter}, stride ${c.stride}, ${c.pad}`, async () => {
      const info = tf.backend_util.computePool2DInfo(
        [c.batch, c.h, c.w, c.c],
        c.filter,
        c.stride,
        1,
        c.pad
      )
      const dyShape = [c.batch, info.outHeight, info.outWidth, c.c]
      const dy = randomArray(
        dyShape.reduce((a, b) => a * b, 1),
        1,
        65 + i
      )
      const x = randomArray(c.batch * c.h * c.w * c.c, 1, 55 + i)
      const inputs: Record<string, [Float32Array, number[]]> = {
        dy: [dy, dyShape],
        input: [x, [c.batch, c.h, c.w, c.c]]
      }
      const attrs = {
        filterSize: c.filter,
        strides: c.stride,
        pad: c.pad
      } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'AvgPoolGrad', inputs, attrs)
      const got = await runKernelOn('wasm', 'AvgPoolGrad', inputs, attrs)
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
    })
  }

  const MATMUL_CASES: Array<[number[], number[], boolean, boolean]> = [
    [[128, 784], [128, 120], true, false],
    [[128, 120], [784, 120], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 6, 5], [2, 6, 4], true, false],
    [[33, 17], [17, 9], false, false],
    // native/gemm.c's edges: k = 1 and 11 columns (a 3-lane tail), 2 rows of 6 columns, 3-D batch of 1
    [[1, 6, 1], [1, 1, 11], false, false],
    [[2, 10], [6, 10], false, true],
    [[1, 9, 13], [1, 9, 7], true, false]
  ]
  for (const [i, [aShape, bShape, transposeA, transposeB]] of MATMUL_CASES.entries()) {
    it(`BatchMatMul matches cpu: ${JSON.stringify(aShape)} x ${JSON.stringify(bShape)}, transposeA ${transposeA}, transposeB ${transposeB}`, async () => {
      const size = (s: number[]): number => s.reduce((p, q) => p * q, 1)
      const inputs: Record<string, [Float32Array, number[]]> = {
        a: [randomArray(size(aShape), 1, 70 + i), aShape],
        b: [randomArray(size(bShape), 0.1, 80 + i), bShape]
      }
      const attrs = { transposeA, transposeB } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'BatchMatMul', inputs, attrs)
      const got = await runKernelOn('wasm', 'BatchMatMul', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
    })
  }

  // A dense layer's forward: native/gemm.c, then bias and activation in one pass. (What goes to
  // tfjs's kernel is left untested here: its wasm _FusedMatMul fails on a sigmoid, a bias per
  // element and a batch of two matrices with a bias, none of which the engine builds.)
  const FUSED_CASES: Array<{ a: number[]; b: number[]; bias: number[] | null; activation: string; tA: boolean; tB: boolean }> = [
    { a: [64, 6272], b: [6272, 10], bias: [10], activation: 'linear', tA: false, tB: false },
    { a: [32, 784], b: [784, 120], bias: [120], activation: 'relu', tA: false, tB: false },
    { a: [17, 9], b: [13, 17], bias: [1, 13], activation: 'relu', tA: true, tB: true },
    { a: [5, 11], b: [11, 6], bias: null, activation: 'relu', tA: false, tB: false },
    { a: [5, 11], b: [11, 6], bias: null, activation: 'linear', tA: false, tB: false }
  ]
  for (const [i, c] of FUSED_CASES.entries()) {
    it(`_FusedMatMul matches cpu: ${JSON.stringify(c.a)} x ${JSON.stringify(c.b)}, bias ${JSON.stringify(c.bias)}, ${c.activation}, transposes ${c.tA} ${c.tB}`, async () => {
      const size = (s: number[]): number => s.reduce((p, q) => p * q, 1)
      const inputs: Record<string, [Float32Array, number[]]> = {
        a: [randomArray(size(c.a), 1, 90 + i), c.a],
        b: [randomArray(size(c.b), 0.1, 100 + i), c.b]
      }
      if (c.bias) inputs.bias = [randomArray(size(c.bias), 1, 110 + i), c.bias]
      const attrs = { transposeA: c.tA, transposeB: c.tB, activation: c.activation } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', '_FusedMatMul', inputs, attrs)
      const got = await runKernelOn('wasm', '_FusedMatMul', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
      if (c.activation === 'relu') expect(got.some((v) => v === 0)).toBe(true)
    })
  }
})
