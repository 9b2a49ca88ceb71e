import { describe, expect, it, beforeAll } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import type { NamedAttrMap } from '@tensorflow/tfjs-core'
import { registerWasmKernels } from './index'
import { createConvGradModule, foldFits, type ConvGeometry } from './native-module'
import { maxAbsDiff, randomArray, runKernelOn } from './test-helpers'

const TOLERANCE = 1e-4

type Pad =
  | 'valid'
  | 'same'
  | number
  | [[number, number], [number, number], [number, number], [number, number]]

interface Case {
  batch: number
  inH: number
  inW: number
  inC: number
  outC: number
  filterH: number
  filterW: number
  stride: [number, number]
  pad: Pad
}

const CASES: Case[] = [
  {
    batch: 1,
    inH: 5,
    inW: 5,
    inC: 1,
    outC: 1,
    filterH: 3,
    filterW: 3,
    stride: [1, 1],
    pad: 'valid'
  },
  {
    batch: 1,
    inH: 7,
    inW: 6,
    inC: 3,
    outC: 5,
    filterH: 3,
    filterW: 2,
    stride: [2, 2],
    pad: 'same'
  },
  { batch: 2, inH: 8, inW: 9, inC: 6, outC: 16, filterH: 3, filterW: 3, stride: [1, 1], pad: 1 },
  {
    batch: 3,
    inH: 9,
    inW: 8,
    inC: 5,
    outC: 17,
    filterH: 1,
    filterW: 5,
    stride: [1, 2],
    pad: 'same'
  },
  {
    batch: 2,
    inH: 10,
    inW: 11,
    inC: 17,
    outC: 3,
    filterH: 4,
    filterW: 3,
    stride: [2, 1],
    pad: 'valid'
  },
  {
    batch: 2,
    inH: 9,
    inW: 7,
    inC: 4,
    outC: 8,
    filterH: 3,
    filterW: 3,
    stride: [2, 2],
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0]
    ]
  },
  {
    batch: 1,
    inH: 6,
    inW: 6,
    inC: 2,
    outC: 33,
    filterH: 5,
    filterW: 5,
    stride: [1, 1],
    pad: 'same'
  },
  { batch: 128, inH: 28, inW: 28, inC: 1, outC: 6, filterH: 3, filterW: 3, stride: [1, 1], pad: 1 },
  // LeNet-5's second conv: the input gradient folded in one pass (30-float runs: two 4-vector groups).
  { batch: 64, inH: 14, inW: 14, inC: 6, outC: 16, filterH: 5, filterW: 5, stride: [1, 1], pad: 'valid' },
  // Filter over the whole input (LeNet-5's third conv): the dense BatchMatMul route.
  { batch: 64, inH: 5, inW: 5, inC: 16, outC: 120, filterH: 5, filterW: 5, stride: [1, 1], pad: 'valid' },
  { batch: 3, inH: 4, inW: 2, inC: 3, outC: 7, filterH: 4, filterW: 2, stride: [2, 3], pad: 0 },
  {
    batch: 128,
    inH: 14,
    inW: 14,
    inC: 6,
    outC: 16,
    filterH: 3,
    filterW: 3,
    stride: [1, 1],
    pad: 'same'
  },
  // Stride 1 with uneven explicit padding, and a run of 35 floats (groups of 4, 4 and 1 vectors).
  {
    batch: 2,
    inH: 9,
    inW: 7,
    inC: 4,
    outC: 5,
    filterH: 4,
    filterW: 3,
    stride: [1, 1],
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0]
    ]
  },
  { batch: 3, inH: 8, inW: 10, inC: 7, outC: 9, filterH: 2, filterW: 5, stride: [1, 1], pad: 'valid' },
  {
    batch: 128,
    inH: 15,
    inW: 13,
    inC: 6,
    outC: 10,
    filterH: 2,
    filterW: 3,
    stride: [2, 2],
    pad: 'valid'
  }
]

function outSize(c: Case): [number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.inH, c.inW, c.inC],
    [c.filterH, c.filterW, c.inC, c.outC],
    c.stride,
    1,
    c.pad
  )
  return [info.outHeight, info.outWidth]
}

describe('wasm convolution gradient kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm')
    registerWasmKernels()
    registerWasmKernels()
  })

  for (const [i, c] of CASES.entries()) {
    const label = `batch ${c.batch}, ${c.inH}x${c.inW}x${c.inC} -> ${c.outC}, filter ${c.filterH}x${c.filterW}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`
    it(`Conv2DBackpropFilter matches cpu: ${label}`, async () => {
      const [outH, outW] = outSize(c)
      const x = randomArray(c.batch * c.inH * c.inW * c.inC, 1, 10 + i)
      const dy = randomArray(c.batch * outH * outW * c.outC, 1 / c.batch, 20 + i)
      const inputs: Record<string, [Float32Array, number[]]> = {
        x: [x, [c.batch, c.inH, c.inW, c.inC]],
        dy: [dy, [c.batch, outH, outW, c.outC]]
      }
      const attrs = {
        strides: c.stride,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: [c.filterH, c.filterW, c.inC, c.outC]
      } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'Conv2DBackpropFilter', inputs, attrs)
      const got = await runKernelOn('wasm', 'Conv2DBackpropFilter', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
    })

    it(`Conv2DBackpropInput matches cpu: ${label}`, async () => {
      const [outH, outW] = outSize(c)
      const dy = randomArray(c.batch * outH * outW * c.outC, 1, 30 + i)
      const w = randomArray(c.filterH * c.filterW * c.inC * c.outC, 0.5, 40 + i)
      const inputs: Record<string, [Float32Array, number[]]> = {
        dy: [dy, [c.batch, outH, outW, c.outC]],
        filter: [w, [c.filterH, c.filterW, c.inC, c.outC]]
      }
      const attrs = {
        strides: c.stride,
        pad: c.pad,
        dataFormat: 'NHWC',
        inputShape: [c.batch, c.inH, c.inW, c.inC]
      } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'Conv2DBackpropInput', inputs, attrs)
      const got = await runKernelOn('wasm', 'Conv2DBackpropInput', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(maxAbsDiff(got, want)).toBeLessThan(TOLERANCE)
    })
  }

  it('folds stride-1 input gradients as the generic kernel computes them (private memory)', () => {
    const native = createConvGradModule()
    const geometries: ConvGeometry[] = [
      // out_w odd (a one-pixel tile), run 3 floats in one partial vector
      { batch: 2, inH: 5, inW: 5, inC: 1, outH: 3, outW: 3, outC: 2, filterH: 3, filterW: 3, strideH: 1, strideW: 1, padTop: 0, padLeft: 0 },
      // LeNet-5's second conv: runs of 30 floats, groups of 4 + 4 vectors, 16 output channels
      { batch: 3, inH: 14, inW: 14, inC: 6, outH: 10, outW: 10, outC: 16, filterH: 5, filterW: 5, strideH: 1, strideW: 1, padTop: 0, padLeft: 0 },
      // 'same' padding on both sides, runs of 18 (4 + 1 vectors), odd width
      { batch: 2, inH: 7, inW: 9, inC: 6, outH: 7, outW: 9, outC: 3, filterH: 3, filterW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1 },
      // padding only at the top and left, runs of 12 (3 vectors), one output channel
      { batch: 1, inH: 6, inW: 5, inC: 2, outH: 5, outW: 5, outC: 1, filterH: 3, filterW: 6, strideH: 1, strideW: 1, padTop: 1, padLeft: 3 }
    ]
    for (const [i, g] of geometries.entries()) {
      expect(foldFits(g)).toBe(true)
      const dy = randomArray(g.batch * g.outH * g.outW * g.outC, 1, 50 + i)
      const w = randomArray(g.filterH * g.filterW * g.inC * g.outC, 0.5, 60 + i)
      const want = new Float32Array(g.batch * g.inH * g.inW * g.inC)
      const got = new Float32Array(want.length).fill(Number.NaN)
      native.backpropInput(dy, w, g, want)
      native.foldBackpropInput(dy, w, g, got)
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5)
    }
    const strided = { ...geometries[0]!, strideH: 2, outH: 2, outW: 2 }
    expect(foldFits(strided)).toBe(false)
    expect(() => native.foldBackpropInput(new Float32Array(8), new Float32Array(18), strided, new Float32Array(50))).toThrow(/stride-1/)
  })
})
