import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tf } from './tf'
import { asGradientModel, type ReplicaInit } from './gradient-model'
import {
  createParallelTrainer,
  type ParallelTrainer
} from './backends/parallel/parallel-trainer'
import type { BuiltModel } from './model'
import type { TrainingData } from './data'
import type { Hyper } from '../shared/hyper'
import type { ModelSpec } from '../shared/model/spec'

/**
 * Smallest batch split across threads. Below it a shard's compute is too short to pay for the
 * gradient exchange (measured: lenet at batch 16 runs slower on two threads than on one).
 */
export const PARALLEL_MIN_BATCH = 64
/** Fewest samples per thread: PARALLEL_MIN_BATCH split over two threads. */
const MIN_SHARD_SAMPLES = PARALLEL_MIN_BATCH / 2
/** Most threads per job, bounding memory (a TensorFlow.js and a wasm heap each). */
const MAX_THREADS = 8
/** Backends whose kernels run on the calling thread, so each worker thread adds a core. */
const THREADED_BACKENDS = new Set(['wasm', 'cpu'])
/** Overrides the thread count (1 turns threads off); for benchmarks and diagnosis. */
const THREADS_ENV = 'CNN_WORKBENCH_THREADS'

/** How many threads (main included) should train this job: 1 unless threads actually help. */
export function chooseThreads(spec: ModelSpec, hyper: Hyper, backend: string, requested?: number): number {
  // Batch norm needs whole-batch statistics, which shards do not see.
  if (!THREADED_BACKENDS.has(backend) || spec.layers.some((l) => l.type === 'batchNorm')) return 1
  const fromEnv = Number(process.env[THREADS_ENV])
  const wanted = requested ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : undefined)
  if (wanted !== undefined) return Math.max(1, wanted)
  if (hyper.batchSize < PARALLEL_MIN_BATCH) return 1
  // Each thread holds its own TensorFlow.js and exchanges every gradient each step, so a shard
  // needs enough samples to pay for that, and many-core machines get a bounded number of copies.
  return Math.max(1, Math.min(availableParallelism(), MAX_THREADS, Math.floor(hyper.batchSize / MIN_SHARD_SAMPLES)))
}

/** The worker entry next to this module: bundled (out/main), or TypeScript run through tsx. */
function gradientWorkerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  const candidates = [
    join(here, 'gradient-worker.js'),
    join(here, '..', 'gradient-worker.js'),
    join(here, 'gradient-worker.ts')
  ]
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`No gradient worker script near ${here}.`)
  return found
}

/**
 * Starts `threads - 1` gradient workers that share the training images and keep replicas of
 * `model` in step with it (each applies the same averaged gradient with its own optimizer).
 */
export async function startParallelTraining(
  model: BuiltModel,
  init: ReplicaInit,
  hyper: Hyper,
  data: TrainingData,
  threads: number,
  /** Each thread keeps its own optimizer; false: the caller's optimizer steps and weights are shared. */
  replicateOptimizer = true
): Promise<ParallelTrainer> {
  const { count, imageShape } = data.train
  const [h, w, c] = imageShape
  // Prepared for threads, the split is already in shared memory; otherwise copy it there once.
  let shared = data.train.shared
  if (!shared) {
    const images = new Float32Array(new SharedArrayBuffer(count * h * w * c * 4))
    images.set(await data.train.images.data())
    const labels = new Int32Array(new SharedArrayBuffer(count * 4))
    labels.set(await data.train.labels.data())
    shared = { images, labels }
  }
  return createParallelTrainer({
    workers: threads - 1,
    backend: tf.getBackend() as Hyper['backend'],
    model: asGradientModel(model),
    modelInit: init,
    data: { ...shared, imageShape: [h, w, c], numClasses: data.numClasses },
    workerPath: gradientWorkerPath(),
    optimizer: replicateOptimizer
      ? {
          name: hyper.optimizer,
          learningRate: hyper.learningRate,
          momentum: hyper.momentum,
          beta1: hyper.beta1,
          beta2: hyper.beta2,
          rho: hyper.rho
        }
      : undefined
  })
}
