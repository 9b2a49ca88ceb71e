import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import { selectBackend } from '../select'
import { createModel } from '../lenet-reference'
import { createParallelTrainer } from './parallel-trainer'
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

describe('createParallelTrainer', () => {
  it.each(['replicated', 'broadcast'])(
    'trains two threads to the same weights as one thread on the whole batch (%s optimizer)',
    async (mode) => {
      await selectBackend('wasm')
      const data = sharedData()
      const indices = Int32Array.from({ length: SAMPLES }, (_, i) => i)

      const single = createModel({ seed: 5 })
      const sgd = tf.train.sgd(0.1)
      for (let s = 0; s < STEPS; s++) {
        const { x, y } = gatherBatch(data, indices)
        sgd.minimize(() => single.loss(x, y))
        tf.dispose([x, y])
      }

      const model = createModel({ seed: 5 })
      const trainer = await createParallelTrainer({
        workers: 1,
        backend: 'wasm',
        model,
        modelModule: fileURLToPath(new URL('../lenet-reference.ts', import.meta.url)),
        modelInit: { seed: 5 },
        data,
        workerPath: fileURLToPath(new URL('./gradient-worker.ts', import.meta.url)),
        optimizer: mode === 'replicated' ? { name: 'sgd', learningRate: 0.1 } : undefined
      })
      expect(trainer.threads).toBe(2)
      expect(trainer.workerBackends[0]).toMatch(/^wasm/)
      const parallelSgd = mode === 'replicated' ? undefined : tf.train.sgd(0.1)
      let loss = 0
      for (let s = 0; s < STEPS; s++) loss = (await trainer.step(indices, parallelSgd)).loss
      await trainer.close()
      expect(Number.isFinite(loss)).toBe(true)
      single.variables.forEach((v, i) => {
        expect(maxAbsDiff(v.dataSync(), model.variables[i]!.dataSync())).toBeLessThan(1e-5)
      })
      single.dispose()
      model.dispose()
    }
  )
})
