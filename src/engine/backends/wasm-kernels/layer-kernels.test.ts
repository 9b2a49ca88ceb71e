import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import type { Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs-core'
import { registerWasmKernels } from './index'
import { directWins, isDense } from './conv-kernels'
import { createConvGradModule, directFits, winogradFits, type ConvGeometry, type KernelActivation } from './native-module'
import { ACTIVATION_GRAD } from './layer-kernels'
import { convBiasActivation, fusedLayerAvailable } from '../../fused-layer'
import { convGeometry, randomArray, relativeError } from './test-helpers'

// Sums of up to a few hundred products in float32, compared relative to the largest value
// (Winograd rounds differently from a direct sum; see winograd.test.ts). An indexing error is
// off by the whole value.
const RELATIVE_TOLERANCE = 2e-5

type Pad = 'valid' | 'same' | [[0, 0], [number, number], [number, number], [0, 0]]

interface Case {
  batch: number
  inH: number
  inW: number
  inC: number
  outC: number
  k: number
  pad: Pad
  route: 'direct' | 'winograd' | 'matmul' | 'xnnpack'
  why: string
}

const CASES: Case[] = [
  { batch: 3, inH: 28, inW: 28, inC: 1, outC: 6, k: 5, pad: [[0, 0], [2, 2], [2, 2], [0, 0]], route: 'direct', why: "LeNet-5's first conv: one input channel, pixels in lanes (16 + 12 a row), 3 channel pairs" },
  { batch: 2, inH: 14, inW: 14, inC: 6, outC: 16, k: 5, pad: 'valid', route: 'direct', why: "LeNet-5's second conv: 10-wide rows end in a 2-pixel tile" },
  { batch: 2, inH: 9, inW: 7, inC: 3, outC: 13, k: 3, pad: 'same', route: 'direct', why: '3 input channels, 13 outputs (8 + 4 + 1 lanes)' },
  { batch: 1, inH: 6, inW: 5, inC: 2, outC: 3, k: 3, pad: [[0, 0], [0, 2], [1, 0], [0, 0]], route: 'direct', why: 'one-sided padding, 3 outputs' },
  { batch: 2, inH: 12, inW: 12, inC: 8, outC: 8, k: 3, pad: 'same', route: 'winograd', why: 'a Winograd geometry' },
  { batch: 2, inH: 5, inW: 5, inC: 16, outC: 22, k: 5, pad: 'valid', route: 'matmul', why: "LeNet-5's third conv: a 5x5 filter over a 5x5 input, one matrix product (22 channels: a scalar tail)" },
  { batch: 2, inH: 8, inW: 7, inC: 16, outC: 10, k: 5, pad: 'valid', route: 'xnnpack', why: '16 x 5 taps a row: XNNPACK, then the activation' },
  { batch: 2, inH: 9, inW: 6, inC: 1, outC: 5, k: 3, pad: 'same', route: 'direct', why: 'one input channel, 5 outputs: the last channel alone, 4 + 2 pixels a row' },
  { batch: 1, inH: 5, inW: 5, inC: 1, outC: 2, k: 3, pad: 'valid', route: 'direct', why: 'one input channel, 3 pixels a row (one partial vector)' },
  { batch: 2, inH: 8, inW: 8, inC: 1, outC: 8, k: 3, pad: 'same', route: 'direct', why: 'one input channel, 8 outputs: the channel tiles' }
]

const ACTIVATIONS: KernelActivation[] = ['linear', 'relu', 'tanh']

function geometryOf(c: Case): ConvGeometry {
  return convGeometry([c.batch, c.inH, c.inW, c.inC], c.k, c.outC, c.pad)
}

/** The layer by tfjs's own ops: conv2d, add, activation. */
function reference(x: Tensor4D, w: Tensor4D, b: Tensor1D | null, pad: Pad, activation: KernelActivation): Tensor4D {
  let y = tf.conv2d(x, w, 1, pad as never)
  if (b) y = tf.add(y, b)
  return activation === 'relu' ? tf.relu(y) : activation === 'tanh' ? tf.tanh(y) : y
}

interface LayerRun {
  y: Float32Array
  dx: Float32Array
  dw: Float32Array
  db: Float32Array | null
}

/** Output and gradients (of sum(y * dy)) of one layer on the active backend. */
async function runLayer(c: Case, activation: KernelActivation, withBias: boolean, fused: boolean, seed: number): Promise<LayerRun> {
  const g = geometryOf(c)
  const x = tf.tensor4d(randomArray(c.batch * c.inH * c.inW * c.inC, 1, seed), [c.batch, c.inH, c.inW, c.inC])
  const w = tf.tensor4d(randomArray(c.k * c.k * c.inC * c.outC, 0.4, seed + 1), [c.k, c.k, c.inC, c.outC])
  const b = withBias ? tf.tensor1d(randomArray(c.outC, 0.5, seed + 2)) : null
  const dy = tf.tensor4d(randomArray(c.batch * g.outH * g.outW * c.outC, 1, seed + 3), [c.batch, g.outH, g.outW, c.outC])
  const layer = (xx: Tensor4D, ww: Tensor4D, bb: Tensor1D | null): Tensor4D =>
    fused ? convBiasActivation(xx, ww, bb, [1, 1], c.pad, activation) : reference(xx, ww, bb, c.pad, activation)
  const y = layer(x, w, b)
  const inputs: Tensor[] = b ? [x, w, b] : [x, w]
  const grads = tf.grads((...args: Tensor[]) =>
    tf.sum(tf.mul(layer(args[0] as Tensor4D, args[1] as Tensor4D, (args[2] as Tensor1D | undefined) ?? null), dy))
  )(inputs)
  const out: LayerRun = {
    y: (await y.data()) as Float32Array,
    dx: (await grads[0]!.data()) as Float32Array,
    dw: (await grads[1]!.data()) as Float32Array,
    db: grads[2] ? ((await grads[2].data()) as Float32Array) : null
  }
  tf.dispose([x, w, dy, y, ...grads, ...(b ? [b] : [])])
  return out
}

describe('fused conv layer (conv + bias + activation) on the wasm backend', () => {
  beforeAll(async () => {
    registerWasmKernels()
    await tf.setBackend('wasm')
  })

  it('is what model.ts uses on wasm for linear, relu and tanh layers, and never on cpu', async () => {
    expect(fusedLayerAvailable('tanh')).toBe(true)
    expect(fusedLayerAvailable('relu')).toBe(true)
    expect(fusedLayerAvailable('sigmoid')).toBe(false)
    await tf.setBackend('cpu')
    expect(fusedLayerAvailable('relu')).toBe(false)
    await tf.setBackend('wasm')
  })

  it('routes each case as its label says (the direct kernel takes small-channel stride-1 convs)', () => {
    for (const c of CASES) {
      const g = geometryOf(c)
      const info = tf.backend_util.computeConv2DInfo([c.batch, c.inH, c.inW, c.inC], [c.k, c.k, c.inC, c.outC], 1, 1, c.pad as never)
      const route = winogradFits(g) ? 'winograd' : directWins(g) ? 'direct' : isDense(info) ? 'matmul' : 'xnnpack'
      expect(route, c.why).toBe(c.route)
    }
    const base = geometryOf(CASES[0]!)
    expect(directFits({ ...base, strideH: 2 })).toBe(false)
    expect(() =>
      createConvGradModule().directConv2d(new Float32Array(1), new Float32Array(1), { ...base, strideW: 2 }, new Float32Array(1))
    ).toThrow(/stride-1/)
  })

  for (const [i, c] of CASES.entries()) {
    for (const activation of ACTIVATIONS) {
      it(`forward and gradients match tfjs's ops on cpu, ${activation}: ${c.why}`, async () => {
        const withBias = i !== 3
        await tf.setBackend('cpu')
        const want = await runLayer(c, activation, withBias, false, 10 * i)
        await tf.setBackend('wasm')
        const got = await runLayer(c, activation, withBias, true, 10 * i)
        expect(relativeError(got.y, want.y)).toBeLessThan(RELATIVE_TOLERANCE)
        expect(relativeError(got.dx, want.dx)).toBeLessThan(RELATIVE_TOLERANCE)
        expect(relativeError(got.dw, want.dw)).toBeLessThan(RELATIVE_TOLERANCE)
        if (withBias) expect(relativeError(got.db!, want.db!)).toBeLessThan(RELATIVE_TOLERANCE)
        else expect(got.db).toBeNull()
        if (activation === 'relu') expect(Math.min(...got.y)).toBe(0)
      })
    }
  }

  it('the direct kernel on its own, in a private memory, matches cpu (bias and tanh epilogue)', async () => {
    const c = CASES[2]!
    const g = geometryOf(c)
    const x = randomArray(c.batch * c.inH * c.inW * c.inC, 1, 5)
    const w = randomArray(c.k * c.k * c.inC * c.outC, 0.5, 6)
    const b = randomArray(c.outC, 0.5, 7)
    await tf.setBackend('cpu')
    const want = tf.tidy(() =>
      reference(tf.tensor4d(x, [c.batch, c.inH, c.inW, c.inC]), tf.tensor4d(w, [c.k, c.k, c.inC, c.outC]), tf.tensor1d(b), c.pad, 'tanh').dataSync()
    )
    await tf.setBackend('wasm')
    const got = new Float32Array(want.length)
    createConvGradModule().directConv2d(x, w, g, got, { bias: b, activation: 'tanh' })
    expect(relativeError(got, want)).toBeLessThan(RELATIVE_TOLERANCE)
    expect(() => createConvGradModule().directConv2d(x, w, g, got, { bias: new Float32Array(2) })).toThrow(/2 values for 13/)
  })

  it('the direct filter gradient matches the generic kernel on every tile shape (private memory)', () => {
    // [batch, inH, inW, inC], k, outC, padding: 8-channel tiles with a 2-lane tail and 25 taps
    // (6 tiles of 4 + 1), 16 channels (4-vector tiles), 20 (4 vectors + 1), 13 (16 lanes, 3
    // unused), 3 (8-tap tiles), one-sided padding, 6 input channels.
    const geometries: Array<[number[], number, number, Pad]> = [
      [[3, 28, 28, 1], 5, 6, [[0, 0], [2, 2], [2, 2], [0, 0]]],
      [[2, 9, 8, 1], 3, 16, 'same'],
      [[2, 7, 9, 2], 3, 20, 'same'],
      [[1, 6, 5, 1], 3, 13, 'valid'],
      [[2, 6, 5, 2], 3, 3, [[0, 0], [0, 2], [1, 0], [0, 0]]],
      [[2, 14, 14, 6], 5, 16, 'valid']
    ]
    const module = createConvGradModule()
    geometries.forEach(([shape, k, outC, pad], i) => {
      const g = convGeometry(shape as [number, number, number, number], k, outC, pad)
      const x = randomArray(shape.reduce((a, b) => a * b, 1), 1, 20 + i)
      const dy = randomArray(g.batch * g.outH * g.outW * outC, 1, 40 + i)
      const want = new Float32Array(k * k * g.inC * outC)
      const got = new Float32Array(want.length)
      module.backpropFilter(x, dy, g, want)
      module.directBackpropFilter(x, dy, g, got)
      expect(relativeError(got, want), JSON.stringify(shape)).toBeLessThan(RELATIVE_TOLERANCE)
    })
    const base = geometryOf(CASES[0]!)
    expect(() => module.directBackpropFilter(new Float32Array(1), new Float32Array(1), { ...base, strideH: 2 }, new Float32Array(1))).toThrow(/stride-1/)
  })

  it('ActivationGrad: relu passes dy where y > 0 (0 at y = 0), tanh scales it by 1 - y^2, linear copies it', () => {
    const y = tf.tensor1d([-1, 0, 0.5, 2, -0.25, 0.75, 1, 0.1, -3])
    const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9])
    const run = (activation: KernelActivation): number[] =>
      Array.from((tf.engine().runKernel(ACTIVATION_GRAD, { dy, y }, { activation } as never) as Tensor).dataSync())
    expect(run('relu')).toEqual([0, 0, 3, 4, 0, 6, 7, 8, 0])
    const tanh = run('tanh')
    const yv = y.dataSync()
    tanh.forEach((v, i) => expect(v).toBeCloseTo((i + 1) * (1 - yv[i]! * yv[i]!), 5))
    expect(run('linear')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(() => tf.engine().runKernel(ACTIVATION_GRAD, { dy, y: tf.zeros([3]) }, { activation: 'relu' } as never)).toThrow(/same shape/)
    tf.dispose([y, dy])
  })

  it('ActivationGrad with channelSum also returns dz summed over all but the last dimension', () => {
    // 2 x 3 x 5 (5 channels: one 4-lane vector and a scalar tail a row).
    const y = tf.tensor3d(Array.from({ length: 30 }, (_, i) => ((i * 7) % 11) - 5), [2, 3, 5])
    const dy = tf.tensor3d(Array.from({ length: 30 }, (_, i) => i + 1), [2, 3, 5])
    for (const activation of ['relu', 'tanh', 'linear'] as const) {
      const [dz, db] = tf.engine().runKernel(ACTIVATION_GRAD, { dy, y }, { activation, channelSum: true } as never) as Tensor[]
      const alone = tf.engine().runKernel(ACTIVATION_GRAD, { dy, y }, { activation } as never) as Tensor
      expect(Array.from(dz!.dataSync())).toEqual(Array.from(alone.dataSync()))
      expect(db!.shape).toEqual([5])
      const want = Array.from(tf.sum(alone, [0, 1]).dataSync())
      Array.from(db!.dataSync()).forEach((v, c) => expect(v).toBeCloseTo(want[c]!, 3))
      tf.dispose([dz!, db!, alone])
    }
    tf.dispose([y, dy])
  })

  it('Identity shares the data instead of copying it, and the copy outlives the original', async () => {
    const x = tf.tensor2d([[1, 2], [3, 4]])
    const backend = tf.backend() as unknown as { refCount(id: object): number; numDataIds(): number }
    const buffers = backend.numDataIds()
    const y = tf.clone(x)
    expect(backend.refCount(x.dataId)).toBe(2)
    expect(backend.numDataIds()).toBe(buffers)
    x.dispose()
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4])
    y.dispose()
    expect(backend.refCount(x.dataId)).toBe(0)
  })
})
