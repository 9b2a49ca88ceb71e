// Median time of the LeNet training step's heaviest kernels on the wasm backend.
// Run: npx tsx bench/kernels.ts
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-wasm'
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core'
import { registerWasmKernels } from '../src/engine/backends/wasm-kernels/index'

const REPEATS = 30

interface KernelCase {
  name: string
  kernel: string
  inputs: Record<string, number[]>
  attrs: Record<string, unknown>
}

const PAD1 = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0]
]
const CASES: KernelCase[] = [
  {
    name: 'conv1 dW',
    kernel: 'Conv2DBackpropFilter',
    inputs: { x: [128, 28, 28, 1], dy: [128, 28, 28, 6] },
    attrs: { strides: 1, pad: PAD1, dataFormat: 'NHWC', filterShape: [3, 3, 1, 6] }
  },
  {
    name: 'conv2 dW',
    kernel: 'Conv2DBackpropFilter',
    inputs: { x: [128, 14, 14, 6], dy: [128, 14, 14, 16] },
    attrs: { strides: 1, pad: PAD1, dataFormat: 'NHWC', filterShape: [3, 3, 6, 16] }
  },
  {
    name: 'conv2 dX',
    kernel: 'Conv2DBackpropInput',
    inputs: { dy: [128, 14, 14, 16], filter: [3, 3, 6, 16] },
    attrs: { strides: 1, pad: PAD1, dataFormat: 'NHWC', inputShape: [128, 14, 14, 6] }
  },
  {
    name: 'conv2 fwd',
    kernel: 'Conv2D',
    inputs: { x: [128, 14, 14, 6], filter: [3, 3, 6, 16] },
    attrs: { strides: 1, pad: PAD1, dataFormat: 'NHWC', dilations: 1 }
  },
  {
    name: 'pool1 grad',
    kernel: 'MaxPoolGrad',
    inputs: { dy: [128, 14, 14, 6], input: [128, 28, 28, 6], output: [128, 14, 14, 6] },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' }
  },
  {
    name: 'pool2 grad',
    kernel: 'MaxPoolGrad',
    inputs: { dy: [128, 7, 7, 16], input: [128, 14, 14, 16], output: [128, 7, 7, 16] },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' }
  },
  {
    name: 'dense1 dW',
    kernel: 'BatchMatMul',
    inputs: { a: [128, 784], b: [128, 120] },
    attrs: { transposeA: true, transposeB: false }
  },
  {
    name: 'dense1 dX',
    kernel: 'BatchMatMul',
    inputs: { a: [128, 120], b: [784, 120] },
    attrs: { transposeA: false, transposeB: true }
  },
  {
    name: 'dense1 fwd',
    kernel: 'BatchMatMul',
    inputs: { a: [128, 784], b: [784, 120] },
    attrs: { transposeA: false, transposeB: false }
  },
  {
    name: 'avgpool grad',
    kernel: 'AvgPoolGrad',
    inputs: { dy: [128, 14, 14, 6], input: [128, 28, 28, 6] },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' }
  },
  {
    name: 'elu grad',
    kernel: 'EluGrad',
    inputs: { dy: [128, 28, 28, 6], y: [128, 28, 28, 6] },
    attrs: {}
  },
  { name: 'prelu', kernel: 'Prelu', inputs: { x: [128, 28, 28, 6], alpha: [] }, attrs: {} },
  {
    name: 'conv s2 dX',
    kernel: 'Conv2DBackpropInput',
    inputs: { dy: [128, 7, 7, 16], filter: [3, 3, 6, 16] },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [128, 14, 14, 6] }
  },
  {
    name: 'conv s2 dW',
    kernel: 'Conv2DBackpropFilter',
    inputs: { x: [128, 14, 14, 6], dy: [128, 7, 7, 16] },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 6, 16] }
  },
  { name: 'bias add 1', kernel: 'Add', inputs: { a: [128, 28, 28, 6], b: [6] }, attrs: {} },
  {
    name: 'bias grad 1',
    kernel: 'Sum',
    inputs: { x: [128, 28, 28, 6] },
    attrs: { axis: [0, 1, 2], keepDims: false }
  }
]

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function main(): Promise<void> {
  const custom = process.argv.includes('--stock') ? false : true
  if (custom) registerWasmKernels()
  await tf.setBackend('wasm')
  for (const c of CASES) {
    if (!custom && c.kernel === 'Conv2DBackpropFilter') continue
    const inputs: Record<string, Tensor> = {}
    for (const [k, shape] of Object.entries(c.inputs)) inputs[k] = tf.randomUniform(shape, -1, 1)
    const times: number[] = []
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now()
      const out = tf.engine().runKernel(c.kernel, inputs, c.attrs as NamedAttrMap) as Tensor
      times.push(performance.now() - t0)
      out.dispose()
    }
    console.log(
      `${c.name.padEnd(12)} ${c.kernel.padEnd(22)} ${median(times).toFixed(3).padStart(7)} ms`
    )
    Object.values(inputs).forEach((t) => t.dispose())
  }
}

void main()
