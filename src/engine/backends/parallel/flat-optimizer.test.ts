import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { FlatOptimizer } from './flat-optimizer'
import { applyFlatGradients, loadWeights, storeWeights } from './shard'

/** Thread t's share of the parameters in ranged mode: contiguous, as even as can be. */
const paramRange = (t: number, threads: number, params: number): [number, number] => [
  Math.floor((t * params) / threads),
  Math.floor(((t + 1) * params) / threads)
]
import { maxAbsDiff, randomArray } from '../wasm-kernels/test-helpers'

/** Random variable shapes of a small network: conv filters, biases, dense weights. */
const SHAPES: number[][][] = [
  [[3, 3, 1, 6], [6], [294, 10], [10]],
  [[5, 5, 3, 7], [7], [1], [13, 17], [17]]
]
const STEPS = 5

function variables(shapes: number[][], seed: number, prefix: string): tf.Variable[] {
  return shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1)
    return tf.variable(tf.tensor(randomArray(size, 0.5, seed + i), shape), true, `${prefix}${seed}_${i}`)
  })
}

/** The flat gradient of a step: variables back to back, of varied magnitudes. */
function flatGradient(vars: tf.Variable[], step: number): Float32Array {
  const size = vars.reduce((n, v) => n + v.size, 0)
  const g = randomArray(size, 1, 100 + step)
  for (let i = 0; i < size; i += 7) g[i] = g[i]! * 1e-4
  return g
}

/** tfjs's own optimizer, stepped with the same gradients (applyFlatGradients hands it named tensors). */
const applyReference = (optimizer: tf.Optimizer, vars: tf.Variable[], flat: Float32Array): void =>
  applyFlatGradients(optimizer, vars, flat)

const mean0 = (n: number): Float32Array => new Float32Array(n)

describe('FlatOptimizer', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  it.each(SHAPES.flatMap((shapes, s) => (['sgd', 'adam'] as const).map((kind) => [kind, s, shapes] as const)))(
    'takes the same steps as tfjs %s (shapes #%i), through applyFlatGradients, with the rate changed midway',
    async (kind, s, shapes) => {
      const mine = variables(shapes, 10 * s + 1, `flat_${kind}_`)
      const theirs = variables(shapes, 10 * s + 1, `tfjs_${kind}_`)
      const flat = new FlatOptimizer(kind, 0.01)
      const reference = kind === 'sgd' ? tf.train.sgd(0.01) : tf.train.adam(0.01, 0.9, 0.999, 1e-8)
      for (let step = 0; step < STEPS; step++) {
        if (step === 3) {
          flat.learningRate = 0.003
          if (kind === 'sgd') (reference as tf.SGDOptimizer).setLearningRate(0.003)
          else (reference as unknown as { learningRate: number }).learningRate = 0.003
        }
        const g = flatGradient(mine, step)
        applyFlatGradients(flat, mine, g)
        applyReference(reference, theirs, g)
      }
      mine.forEach((v, i) => {
        // Float32 either way; tfjs rounds after every op, the fused loop once per value.
        expect(maxAbsDiff(v.dataSync(), theirs[i]!.dataSync())).toBeLessThan(1e-5)
      })
      // And the weights did move.
      const moved = Math.max(...mine.map((v, i) => maxAbsDiff(v.dataSync(), randomArray(v.size, 0.5, 10 * s + 1 + i))))
      expect(moved).toBeGreaterThan(1e-3)
      const a = await flat.getWeights()
      const b = await reference.getWeights()
      expect(a.map((w) => w.name.replace(/^flat_/, ''))).toEqual(b.map((w) => w.name.replace(/^tfjs_/, '')))
      for (let i = 0; i < a.length; i++) {
        expect(a[i]!.tensor.shape).toEqual(b[i]!.tensor.shape)
        expect(maxAbsDiff(a[i]!.tensor.dataSync(), b[i]!.tensor.dataSync())).toBeLessThan(1e-5)
      }
      tf.dispose([a[0]!.tensor, b[0]!.tensor])
      flat.dispose()
      reference.dispose()
      tf.dispose([...mine, ...theirs])
    }
  )

  it.each(['sgd', 'adam'] as const)(
    'in ranged mode, three threads each stepping their range of shared state take tfjs %s steps on the weighted mean gradient',
    async (kind) => {
      const shapes = SHAPES[1]!
      const THREADS = 3
      const counts = [22, 21, 21]
      const theirs = variables(shapes, 21, `ranged_tfjs_${kind}_`)
      const reference = kind === 'sgd' ? tf.train.sgd(0.01) : tf.train.adam(0.01, 0.9, 0.999, 1e-8)
      const params = theirs.reduce((n, v) => n + v.size, 0)
      // Each "thread" has its own variables and optimizer; weights and moments are shared.
      const weights = new Float32Array(params)
      storeWeights(theirs, weights)
      const moments = kind === 'adam' ? new Float32Array(2 * params) : undefined
      const replicas = Array.from({ length: THREADS }, (_, t) => {
        const vars = theirs.map((v, i) => tf.variable(v.clone(), true, `ranged_${kind}_${t}_${i}`))
        const optimizer = new FlatOptimizer(kind, 0.01)
        optimizer.shareState(vars, { weights, moments })
        return { vars, optimizer }
      })
      for (let step = 0; step < STEPS; step++) {
        const rate = step < 3 ? 0.01 : 0.003
        if (kind === 'sgd') (reference as tf.SGDOptimizer).setLearningRate(rate)
        else (reference as unknown as { learningRate: number }).learningRate = rate
        // Per-thread gradients, and the batch gradient they average to (weighted by shard size).
        const slots = counts.map((_, t) => flatGradient(theirs, 10 * step + t))
        const mean = new Float32Array(params)
        slots.forEach((slot, t) => slot.forEach((g, i) => (mean[i] = mean[i]! + (g * counts[t]!) / 64)))
        applyReference(reference, theirs, mean)
        replicas.forEach(({ optimizer }, t) => {
          optimizer.learningRate = rate
          const [lo, hi] = paramRange(t, THREADS, params)
          optimizer.applyRange(slots, counts, lo, hi)
        })
        replicas.forEach(({ vars }) => loadWeights(vars, weights))
      }
      for (const { vars } of replicas) {
        vars.forEach((v, i) => expect(maxAbsDiff(v.dataSync(), theirs[i]!.dataSync())).toBeLessThan(1e-5))
      }
      // The main thread's optimizer state (a checkpoint) holds every range's moments.
      const a = await replicas[0]!.optimizer.getWeights()
      const b = await reference.getWeights()
      expect(a.length).toBe(b.length)
      expect(a[0]!.tensor.dataSync()[0]).toBe(STEPS)
      for (let i = 1; i < a.length; i++) expect(maxAbsDiff(a[i]!.tensor.dataSync(), b[i]!.tensor.dataSync())).toBeLessThan(1e-5)
      expect(() => applyFlatGradients(replicas[0]!.optimizer, replicas[0]!.vars, mean0(params))).toThrow(/applyRange/)
      tf.dispose([a[0]!.tensor, b[0]!.tensor, ...theirs, ...replicas.flatMap((r) => r.vars)])
      replicas.forEach((r) => r.optimizer.dispose())
      reference.dispose()
    }
  )

  it('resumes from tfjs Adam state (a checkpoint) and goes on taking the same steps', async () => {
    const shapes = SHAPES[0]!
    const theirs = variables(shapes, 7, 'ckpt_tfjs_')
    const reference = tf.train.adam(0.01, 0.9, 0.999, 1e-8)
    for (let step = 0; step < 2; step++) applyReference(reference, theirs, flatGradient(theirs, step))
    const saved = await reference.getWeights()
    const mine = theirs.map((v, i) => tf.variable(v.clone(), true, `ckpt_flat_${i}`))
    const flat = new FlatOptimizer('adam', 0.01)
    await flat.setWeights(saved.map((w) => ({ name: w.name.replace('ckpt_tfjs_7_', 'ckpt_flat_'), tensor: w.tensor.clone() })))
    expect(flat.iterations).toBe(2)
    for (let step = 2; step < 4; step++) {
      const g = flatGradient(theirs, step)
      applyFlatGradients(flat, mine, g)
      applyReference(reference, theirs, g)
    }
    mine.forEach((v, i) => expect(maxAbsDiff(v.dataSync(), theirs[i]!.dataSync())).toBeLessThan(1e-5))
    flat.dispose()
    reference.dispose()
    tf.dispose([...mine, ...theirs, saved[0]!.tensor])
  })

  it('keeps the number of tensors flat across steps and snapshots', async () => {
    const vars = variables(SHAPES[1]!, 3, 'count_')
    const flat = new FlatOptimizer('adam', 0.001)
    applyFlatGradients(flat, vars, flatGradient(vars, 0))
    const first = await flat.getWeights()
    tf.dispose(first[0]!.tensor)
    const before = tf.memory().numTensors
    for (let step = 1; step < 4; step++) {
      applyFlatGradients(flat, vars, flatGradient(vars, step))
      const w = await flat.getWeights()
      tf.dispose(w[0]!.tensor)
    }
    expect(tf.memory().numTensors).toBe(before)
    flat.dispose()
    tf.dispose(vars)
  })
})
