import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core'
import { registerWasmKernels } from './index'
import { createConvGradModule, winogradFits, type ConvGeometry } from './native-module'
import { convGeometry, maxAbsDiff, randomArray, relativeError, runKernelOn } from './test-helpers'

// Winograd F(4x4, 3x3) rounds differently from a direct sum (its transforms scale by up to 8
// and 1/24), so results are compared relative to the largest value: fp32 Winograd of this size
// is good to about 1e-5 of it; an indexing or transform error is off by the whole value.
const RELATIVE_TOLERANCE = 2e-5

type Pad = 'valid' | 'same' | number | number[][]

interface Case {
  batch: number
  inH: number
  inW: number
  inC: number
  outC: number
  pad: Pad
  why: string
}

const CASES: Case[] = [
  { batch: 2, inH: 28, inW: 28, inC: 32, outC: 32, pad: 'same', why: "convnet's second conv, 98 tiles in blocks of 32" },
  { batch: 3, inH: 9, inW: 11, inC: 8, outC: 12, pad: 1, why: 'partial border tiles, 12 output channels (a 4-wide remainder)' },
  { batch: 5, inH: 7, inW: 7, inC: 32, outC: 64, pad: 1, why: "cnn3's third conv" },
  { batch: 2, inH: 6, inW: 5, inC: 4, outC: 4, pad: 'valid', why: 'no padding, a 4x3 output in one tile' },
  { batch: 1, inH: 3, inW: 3, inC: 4, outC: 8, pad: 'valid', why: 'a 1x1 output' },
  {
    batch: 2,
    inH: 10,
    inW: 9,
    inC: 4,
    outC: 8,
    pad: [[0, 0], [2, 0], [0, 2], [0, 0]],
    why: 'padding on one side only (top 2, right 2)'
  },
  { batch: 4, inH: 14, inW: 14, inC: 16, outC: 32, pad: 'same', why: "cnn3's second conv" }
]

function geometryOf(c: Case): ConvGeometry {
  return convGeometry([c.batch, c.inH, c.inW, c.inC], 3, c.outC, c.pad)
}

describe('Winograd F(4x4, 3x3) convolution kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm')
    registerWasmKernels()
  })

  it('take 3x3 stride-1 convolutions over multiples of 4 channels, and nothing else', () => {
    const base = geometryOf(CASES[0]!)
    expect(winogradFits(base)).toBe(true)
    expect(winogradFits({ ...base, inC: 1 })).toBe(false)
    expect(winogradFits({ ...base, outC: 6 })).toBe(false)
    expect(winogradFits({ ...base, strideH: 2 })).toBe(false)
    expect(winogradFits({ ...base, filterH: 5, filterW: 5 })).toBe(false)
    const module = createConvGradModule()
    const g = { ...base, inC: 3 }
    expect(() => module.winogradConv2d(new Float32Array(1), new Float32Array(1), g, new Float32Array(1))).toThrow(/3x3 stride-1/)
  })

  for (const [i, c] of CASES.entries()) {
    const g = geometryOf(c)
    const label = `batch ${c.batch}, ${c.inH}x${c.inW}x${c.inC} -> ${g.outH}x${g.outW}x${c.outC}, pad ${JSON.stringify(c.pad)} (${c.why})`
    const xShape = [c.batch, c.inH, c.inW, c.inC]
    const wShape = [3, 3, c.inC, c.outC]
    const yShape = [c.batch, g.outH, g.outW, c.outC]
    const x = randomArray(xShape.reduce((a, b) => a * b), 1, 100 + i)
    const w = randomArray(wShape.reduce((a, b) => a * b), 0.5, 200 + i)
    const dy = randomArray(yShape.reduce((a, b) => a * b), 1, 300 + i)

    it(`Conv2D matches cpu: ${label}`, async () => {
      expect(winogradFits(g)).toBe(true)
      const inputs: Record<string, [Float32Array, number[]]> = { x: [x, xShape], filter: [w, wShape] }
      const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'Conv2D', inputs, attrs)
      const got = await runKernelOn('wasm', 'Conv2D', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(relativeError(got, want)).toBeLessThan(RELATIVE_TOLERANCE)
      // The module itself, in a private memory (the path without tfjs's heap).
      const direct = new Float32Array(want.length)
      createConvGradModule().winogradConv2d(x, w, g, direct)
      expect(relativeError(direct, want)).toBeLessThan(RELATIVE_TOLERANCE)
    })

    it(`Conv2DBackpropFilter matches cpu: ${label}`, async () => {
      const inputs: Record<string, [Float32Array, number[]]> = { x: [x, xShape], dy: [dy, yShape] }
      const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', filterShape: wShape } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'Conv2DBackpropFilter', inputs, attrs)
      const got = await runKernelOn('wasm', 'Conv2DBackpropFilter', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(relativeError(got, want)).toBeLessThan(RELATIVE_TOLERANCE)
    })

    it(`Conv2DBackpropInput (a Winograd conv of dy with the flipped filter) matches cpu: ${label}`, async () => {
      const inputs: Record<string, [Float32Array, number[]]> = { dy: [dy, yShape], filter: [w, wShape] }
      const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'Conv2DBackpropInput', inputs, attrs)
      const got = await runKernelOn('wasm', 'Conv2DBackpropInput', inputs, attrs)
      expect(got.length).toBe(want.length)
      expect(relativeError(got, want)).toBeLessThan(RELATIVE_TOLERANCE)
    })
  }

  it('FusedConv2D (conv + bias + relu or linear, as inference runs a layer) matches cpu, with and without a bias', async () => {
    for (const [i, c] of [CASES[0]!, CASES[1]!, CASES[5]!].entries()) {
      const g = geometryOf(c)
      const xShape = [c.batch, c.inH, c.inW, c.inC]
      const wShape = [3, 3, c.inC, c.outC]
      const x = randomArray(xShape.reduce((a, b) => a * b), 1, 400 + i)
      const w = randomArray(wShape.reduce((a, b) => a * b), 0.5, 500 + i)
      const bias = randomArray(c.outC, 2, 600 + i)
      for (const [activation, withBias] of [['relu', true], ['linear', true], ['relu', false]] as const) {
        const inputs: Record<string, [Float32Array, number[]]> = { x: [x, xShape], filter: [w, wShape] }
        if (withBias) inputs.bias = [bias, [c.outC]]
        const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], activation } as unknown as NamedAttrMap
        const want = await runKernelOn('cpu', 'FusedConv2D', inputs, attrs)
        const got = await runKernelOn('wasm', 'FusedConv2D', inputs, attrs)
        expect(got.length).toBe(g.batch * g.outH * g.outW * c.outC)
        expect(relativeError(got, want), `${activation}, bias ${withBias}`).toBeLessThan(RELATIVE_TOLERANCE)
        if (activation === 'relu') expect(Math.min(...got)).toBe(0)
        else expect(Math.min(...got)).toBeLessThan(0)
      }
    }
    // An activation the epilogue lacks goes to tfjs's own kernel.
    const c = CASES[1]!
    const xShape = [c.batch, c.inH, c.inW, c.inC]
    const wShape = [3, 3, c.inC, c.outC]
    const inputs: Record<string, [Float32Array, number[]]> = {
      x: [randomArray(xShape.reduce((a, b) => a * b), 1, 7), xShape],
      filter: [randomArray(wShape.reduce((a, b) => a * b), 0.5, 8), wShape]
    }
    const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], activation: 'elu' } as unknown as NamedAttrMap
    const want = await runKernelOn('cpu', 'FusedConv2D', inputs, attrs)
    const got = await runKernelOn('wasm', 'FusedConv2D', inputs, attrs)
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4)
  })

  it('leaves other convolutions to tfjs (XNNPACK): 1 input channel, stride 2, 5x5', async () => {
    for (const [xShape, wShape, strides] of [
      [[2, 28, 28, 1], [3, 3, 1, 32], [1, 1]],
      [[2, 9, 9, 8], [3, 3, 8, 8], [2, 2]],
      [[2, 12, 12, 4], [5, 5, 4, 8], [1, 1]]
    ] as const) {
      const x = randomArray(xShape.reduce((a: number, b: number) => a * b, 1), 1, 7)
      const w = randomArray(wShape.reduce((a: number, b: number) => a * b, 1), 0.5, 8)
      const inputs: Record<string, [Float32Array, number[]]> = { x: [x, [...xShape]], filter: [w, [...wShape]] }
      const attrs = { strides, pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] } as unknown as NamedAttrMap
      const want = await runKernelOn('cpu', 'Conv2D', inputs, attrs)
      const got = await runKernelOn('wasm', 'Conv2D', inputs, attrs)
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4)
    }
  })

  it('gives training the same gradients as the cpu backend through tf.grads', async () => {
    const c = CASES[1]!
    const x = randomArray(c.batch * c.inH * c.inW * c.inC, 1, 11)
    const w = randomArray(9 * c.inC * c.outC, 0.5, 12)
    const grads = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend)
      const xt = tf.tensor4d(x, [c.batch, c.inH, c.inW, c.inC])
      const wt = tf.tensor4d(w, [3, 3, c.inC, c.outC])
      const f = (a: Tensor, b: Tensor): Tensor =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))
      const [dx, dw] = tf.grads(f)([xt, wt])
      const out = [(await dx!.data()) as Float32Array, (await dw!.data()) as Float32Array]
      tf.dispose([xt, wt, dx!, dw!])
      return out
    }
    const want = await grads('cpu')
    const got = await grads('wasm')
    expect(relativeError(got[0]!, want[0]!)).toBeLessThan(RELATIVE_TOLERANCE)
    expect(relativeError(got[1]!, want[1]!)).toBeLessThan(RELATIVE_TOLERANCE)
  })
})
