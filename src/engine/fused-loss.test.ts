import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from './tf'
import '@tensorflow/tfjs-backend-wasm'
import { registerWasmKernels } from './backends/wasm-kernels'
import { COUNT_HITS, SOFTMAX_CROSS_ENTROPY } from './backends/wasm-kernels/loss-kernels'
import { countHits, fusedLossAvailable, softmaxCrossEntropy } from './fused-loss'
import { randomArray } from './backends/wasm-kernels/test-helpers'

interface LossRun {
  loss: number
  hits: number
  dLogits: number[]
  dLabels: number[]
  kernels: string[]
}

/** The loss, its gradients and the hit count on `backend`, by our functions, and which kernels ran. */
async function lossOn(backend: string, logits: number[][], labels: number[][]): Promise<LossRun> {
  await tf.setBackend(backend)
  const x = tf.tensor2d(logits)
  const y = tf.tensor2d(labels)
  const run = (): tf.Tensor[] => {
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => softmaxCrossEntropy(b as tf.Tensor2D, a as tf.Tensor2D))([x, y])
    return [value, grads[0]!, grads[1]!, countHits(y, x)]
  }
  const profile = await tf.profile(() => run())
  const [loss, dLogits, dLabels, hits] = run()
  const out = {
    loss: (await loss!.data())[0]!,
    hits: (await hits!.data())[0]!,
    dLogits: Array.from(await dLogits!.data()),
    dLabels: Array.from(await dLabels!.data()),
    kernels: profile.kernels.map((k) => k.name)
  }
  tf.dispose([x, y, loss!, dLogits!, dLabels!, hits!])
  return out
}

function rows(values: Float32Array, classes: number): number[][] {
  return Array.from({ length: values.length / classes }, (_, r) => Array.from(values.subarray(r * classes, (r + 1) * classes)))
}

const oneHot = (labels: number[], classes: number): number[][] =>
  labels.map((l) => Array.from({ length: classes }, (_, j) => (j === l ? 1 : 0)))

/** The mean loss and its exact gradients in double precision. */
function exact(logits: number[][], labels: number[][]): { loss: number; dLogits: number[]; dLabels: number[] } {
  const n = logits.length
  let loss = 0
  const dLogits: number[] = []
  const dLabels: number[] = []
  logits.forEach((row, r) => {
    const max = Math.max(...row)
    const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0))
    const labelSum = labels[r]!.reduce((a, b) => a + b, 0)
    row.forEach((v, j) => {
      loss -= (labels[r]![j]! * (v - lse)) / n
      dLogits.push((Math.exp(v - lse) * labelSum - labels[r]![j]!) / n)
      dLabels.push(-(v - lse) / n)
    })
  })
  return { loss, dLogits, dLabels }
}

/** Each value within `tolerance`, relative to the value where it is larger than 1 (float32 results). */
const closeTo = (got: number[], want: number[], tolerance: number): void => {
  expect(got.length).toBe(want.length)
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(tolerance * Math.max(1, Math.abs(want[i]!))))
}

describe('fused softmax cross-entropy and hit count (wasm) against tfjs ops (cpu)', () => {
  beforeAll(() => registerWasmKernels())

  const cases: Array<[string, number[][], number[][]]> = [
    ['a batch of 64 logits over 10 classes', rows(randomArray(640, 4, 3), 10), oneHot(Array.from({ length: 64 }, (_, i) => (i * 7) % 10), 10)],
    ['large logits (the max shift keeps exp finite)', [[1000, 990, -50], [-1000, -1001, -1002]], oneHot([1, 0], 3)],
    ['ties: the first maximum is the prediction', [[2, 2, 1], [0, 3, 3], [5, 5, 5]], oneHot([0, 2, 0], 3)]
  ]
  for (const [label, logits, labels] of cases) {
    it(`matches: ${label}`, async () => {
      const want = await lossOn('cpu', logits, labels)
      const got = await lossOn('wasm', logits, labels)
      expect(got.kernels).toContain(SOFTMAX_CROSS_ENTROPY)
      expect(got.kernels).toContain(COUNT_HITS)
      expect(got.kernels.length).toBeLessThan(want.kernels.length / 2)
      expect(got.hits).toBe(want.hits)
      // tfjs rounds every op to float32; ours sums in double and is closer to the exact values.
      const truth = exact(logits, labels)
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want.loss)))
      expect(Math.abs(got.loss - truth.loss)).toBeLessThan(1e-6 * Math.max(1, Math.abs(truth.loss)))
      closeTo(got.dLogits, want.dLogits, 2e-5)
      closeTo(got.dLogits, truth.dLogits, 1e-7)
      closeTo(got.dLabels, truth.dLabels, 1e-5)
    })
  }

  it('gives the exact gradient for labels that do not sum to 1 (where tfjs assumes they do)', async () => {
    const logits = [[0.5, -1, 2], [1, 1, 0]]
    const labels = [[0.2, 0.3, 0.1], [0, 0.5, 1]]
    const got = await lossOn('wasm', logits, labels)
    const truth = exact(logits, labels)
    expect(Math.abs(got.loss - truth.loss)).toBeLessThan(1e-6)
    closeTo(got.dLogits, truth.dLogits, 1e-7)
    closeTo(got.dLabels, truth.dLabels, 1e-6)
    const tfjs = await lossOn('cpu', logits, labels)
    expect(Math.abs(tfjs.loss - truth.loss)).toBeLessThan(1e-6)
  })

  it('takes int32 one-hot labels as tfjs does, and is used only on wasm', async () => {
    await tf.setBackend('wasm')
    expect(fusedLossAvailable()).toBe(true)
    const logits = tf.tensor2d([[1, 2, 3], [3, 2, 1]])
    const labels = tf.oneHot(tf.tensor1d([2, 1], 'int32'), 3) as tf.Tensor2D
    expect(labels.dtype).toBe('int32')
    const loss = (await softmaxCrossEntropy(labels, logits).data())[0]!
    const hits = (await countHits(labels, logits).data())[0]!
    const want = (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3 + Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 2) / 2
    expect(loss).toBeCloseTo(want, 5)
    expect(hits).toBe(1)
    await tf.setBackend('cpu')
    expect(fusedLossAvailable()).toBe(false)
  })

  it('rejects logits and labels of different shapes with the shapes in the message', async () => {
    await tf.setBackend('wasm')
    expect(() => softmaxCrossEntropy(tf.tensor2d([[1, 0]]), tf.tensor2d([[1, 2, 3]]))).toThrow(/\[1,3\] and \[1,2\]/)
  })
})
