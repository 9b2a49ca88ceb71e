import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import { selectBackend } from '../select'
import { createModel } from '../lenet-reference'
import { createParallelTrainer, type ParallelTrainerOptions } from './parallel-trainer'
import { gatherBatch, type SharedData } from './shard'
import { maxAbsDiff, randomArray } from '../wasm-kernels/test-helpers'

const SAMPLES = 64
const STEPS = 3

function sharedData(): SharedData {
  const images = new Float32Array(new SharedArrayBuffer(SAMPLES * 784 * 4))
  images.set(randomArray(SAMPLES * 784, 0.5, 11).map((v) => v + 0.5))
  const labels = new Int32Array(new SharedArrayBuffer(SAMPLES * 4))
  labels.set(Int32Array.from({ length: SAMPLES }, (_, i) => (i * 3) % 10))
  return { images, imageShape: [28, 28, 1], labels, numClasses: 10 }
}

const LENET_MODULE = fileURLToPath(new URL('../lenet-reference.ts', import.meta.url))
const WORKER = fileURLToPath(new URL('./gradient-worker.ts', import.meta.url))

/** A wasm trainer of the reference LeNet (or another model module) over `data`. */
function startTrainer(options: Partial<ParallelTrainerOptions> & Pick<ParallelTrainerOptions, 'model' | 'modelInit' | 'data'>) {
  return createParallelTrainer({ workers: 1, backend: 'wasm', modelModule: LENET_MODULE, workerPath: WORKER, ...options })
}

describe('createParallelTrainer', () => {
  // Replicated mode with fused SGD or Adam: each thread steps its own copy of the weights and moments.
  // Three threads also check that no thread steps before every other thread's gradients are in.
  // 'waiting without blocking': the main thread of a process that may not block (Electron's).
  // 'JavaScript update': the shared state in a plain SharedArrayBuffer, stepped by the JavaScript
  // loop rather than native/optimizer.c (the default, in a shared wasm memory).
  it.each([
    'replicated',
    'replicated, JavaScript update',
    'broadcast',
    'replicated adam, rate changed',
    'replicated adam, rate changed, JavaScript update',
    'replicated adam, three threads',
    'replicated adam, waiting without blocking'
  ])(
    'trains two threads to the same weights as one thread on the whole batch (%s optimizer)',
    async (mode) => {
      await selectBackend('wasm')
      const data = sharedData()
      const indices = Int32Array.from({ length: SAMPLES }, (_, i) => i)

      // The schedule case: every thread must take the new rate from step 2 on (fused Adam there).
      const adam = mode.includes('adam')
      const rateAt = (s: number): number => (adam ? (s === 0 ? 0.01 : 0.002) : 0.1)
      const single = createModel({ seed: 5 })
      const sgd = adam ? tf.train.adam(rateAt(0), 0.9, 0.999, 1e-8) : tf.train.sgd(0.1)
      for (let s = 0; s < STEPS; s++) {
        ;(sgd as unknown as { learningRate: number }).learningRate = rateAt(s)
        const { x, y } = gatherBatch(data, indices)
        sgd.minimize(() => single.loss(x, y))
        tf.dispose([x, y])
      }

      const model = createModel({ seed: 5 })
      const workers = mode.includes('three') ? 2 : 1
      const trainer = await startTrainer({
        workers,
        wait: mode.includes('without blocking') ? 'async' : undefined,
        wasmOptimizer: mode.includes('JavaScript') ? false : undefined,
        model,
        modelInit: { seed: 5 },
        data,
        optimizer: mode.startsWith('replicated')
          ? { name: adam ? 'adam' : 'sgd', learningRate: rateAt(0) }
          : undefined
      })
      expect(trainer.threads).toBe(workers + 1)
      expect(trainer.weightUpdate).toBe(mode.startsWith('replicated') ? (mode.includes('JavaScript') ? 'javascript' : 'wasm') : null)
      // Node's main thread may block: the quick wait unless asked otherwise.
      expect(trainer.wait).toBe(mode.includes('without blocking') ? 'async' : 'block')
      trainer.workerBackends.forEach((b) => expect(b).toMatch(/^wasm/))
      const parallelSgd = mode.startsWith('replicated') ? undefined : tf.train.sgd(0.1)
      let loss = 0
      for (let s = 0; s < STEPS; s++) {
        if (adam) trainer.setLearningRate(rateAt(s))
        loss = (await trainer.step(indices, parallelSgd)).loss
      }
      await trainer.close()
      expect(Number.isFinite(loss)).toBe(true)
      single.variables.forEach((v, i) => {
        // Adam divides by the gradient's running size, so float rounding in the averaged gradient
        // shows more (5e-5 here); a worker missing the new rate is off by over 1e-3.
        expect(maxAbsDiff(v.dataSync(), model.variables[i]!.dataSync())).toBeLessThan(adam ? 2.5e-4 : 1e-5)
      })
      single.dispose()
      model.dispose()
    }
  )

  it('gives a thread with no samples (a batch smaller than the thread count) nothing to add', async () => {
    await selectBackend('wasm')
    const data = sharedData()
    const indices = Int32Array.from([5, 9])
    const single = createModel({ seed: 3 })
    const sgd = tf.train.sgd(0.1)
    const { x, y } = gatherBatch(data, indices)
    sgd.minimize(() => single.loss(x, y))
    tf.dispose([x, y])
    const model = createModel({ seed: 3 })
    const trainer = await startTrainer({ workers: 2, model, modelInit: { seed: 3 }, data, optimizer: { name: 'sgd', learningRate: 0.1 } })
    const { loss } = await trainer.step(indices)
    await trainer.close()
    expect(Number.isFinite(loss)).toBe(true)
    single.variables.forEach((v, i) => expect(maxAbsDiff(v.dataSync(), model.variables[i]!.dataSync())).toBeLessThan(1e-5))
    single.dispose()
    model.dispose()
  })

  it('rejects the step with the worker\'s own error when a worker throws mid-training, and does not hang', async () => {
    await selectBackend('wasm')
    const data = sharedData()
    const indices = Int32Array.from({ length: SAMPLES }, (_, i) => i)
    const model = createModel({ seed: 4 })
    const trainer = await startTrainer({
      model,
      modelModule: fileURLToPath(new URL('./failing-model.fixture.ts', import.meta.url)),
      modelExport: 'createFailingModel',
      modelInit: { seed: 4, failAt: 2 },
      data,
      optimizer: { name: 'adam', learningRate: 0.01 }
    })
    await trainer.step(indices)
    await expect(trainer.step(indices)).rejects.toThrow(/fixture worker broke at step 2/)
    await trainer.close()
    model.dispose()
  })
})
