import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type * as tf from '@tensorflow/tfjs-core'
import type { BackendChoice } from '../../../shared/hyper'
import {
  applyFlatGradients,
  averageGradients,
  batchLoss,
  CLOSED,
  controlSlots,
  gatherBatch,
  gradSlot,
  loadWeights,
  lossAndGradients,
  rangeStepper,
  signalStep,
  StepBoard,
  storeWeights,
  ThreadFailed,
  waitForThreads,
  waitForThreadsAsync,
  canBlock,
  type SharedData
} from './shard'
import { makeOptimizer, setOptimizerLearningRate, type OptimizerSpec } from './optimizer'
import { allocateSharedState, rangeKernel, sharedViews } from './shared-state'
import type { FromWorker, GradientModel, InitMessage, ToWorker } from './protocol'

export type { GradientModel, GradientModelFactory } from './protocol'
export type { OptimizerSpec } from './optimizer'
export type { SharedData } from './shard'

/** One step's outcome over the whole batch. */
export interface StepResult {
  /** Mean loss over the batch. */
  loss: number
  /** Samples the model classified right before the step (0 if the model does not count). */
  hits: number
}

/** How long a worker may take to load its backend and model before the trainer gives up. */
const WORKER_READY_TIMEOUT_MS = 60_000

/** Options for createParallelTrainer. */
export interface ParallelTrainerOptions {
  /** Worker threads besides the main thread, which computes one shard itself. 1 suits 2 cores. */
  workers: number
  /** Backend each worker selects (with the same fallbacks as selectBackend). */
  backend: BackendChoice
  /** The main thread's model; its variables are the weights every thread trains. */
  model: GradientModel
  /**
   * With an optimizer spec every thread keeps an identical optimizer and applies the averaged
   * gradient itself, so no weights cross threads (fastest). Without one, step() takes the
   * optimizer and the main thread shares updated weights after each step.
   */
  optimizer?: OptimizerSpec
  /**
   * Path or file URL of a module the workers import to build the same model. Not needed when
   * the worker entry passes its own factory to serveGradientWorker (as a bundled engine does).
   */
  modelModule?: string
  /** Export of modelModule called as factory(modelInit); defaults to 'createModel'. */
  modelExport?: string
  /** Structured-cloneable argument for the factory, e.g. { spec, seed }. */
  modelInit: unknown
  /** Training data: images in [0, 1] as [n, h, w, c] floats, integer labels. */
  data: SharedData
  /** The worker script; defaults to gradient-worker.js (or .ts) next to this module. */
  workerPath?: string
  /**
   * How the main thread waits for the workers within a step: 'block' (Atomics.wait, quickest),
   * 'async' (Atomics.waitAsync, for threads that may not block). Default: block where allowed.
   */
  wait?: 'block' | 'async'
  /**
   * false: keep the shared state in a plain SharedArrayBuffer and step it with the JavaScript
   * loop rather than native/optimizer.c (tests compare the two). Default: wasm where it runs.
   */
  wasmOptimizer?: boolean
}

/** Data-parallel training: each batch is split across threads and their gradients averaged. */
export interface ParallelTrainer {
  /** Threads computing each batch, the main thread included. */
  readonly threads: number
  /** Backend and notes reported by each worker. */
  readonly workerBackends: string[]
  /** How the main thread waits for the workers within a step (see ParallelTrainerOptions.wait). */
  readonly wait: 'block' | 'async'
  /** The main thread's copy of the optimizer in replicated mode (its state is every thread's). */
  readonly optimizer: tf.Optimizer | null
  /**
   * What steps each thread's copy of the weights with fused SGD and Adam: native/optimizer.c over
   * a shared wasm memory, or the JavaScript loop over a SharedArrayBuffer; null for tfjs's own
   * optimizers and in broadcast mode.
   */
  readonly weightUpdate: 'wasm' | 'javascript' | null
  /**
   * One optimizer step on the samples at `indices`; resolves to the batch's mean loss and hits.
   * Pass the optimizer only when the trainer was made without an optimizer spec.
   */
  step(indices: Int32Array, optimizer?: tf.Optimizer): Promise<StepResult>
  /** Replicated mode: every thread's optimizer uses this learning rate from the next step on. */
  setLearningRate(lr: number): void
  /** Stops the workers. The model stays usable on the main thread. */
  close(): Promise<void>
}

function toShared<T extends Float32Array | Int32Array>(
  values: T,
  make: (b: SharedArrayBuffer) => T
): T {
  if (values.buffer instanceof SharedArrayBuffer) return values
  const shared = make(new SharedArrayBuffer(values.byteLength))
  shared.set(values)
  return shared
}

function defaultWorkerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  const candidates = [join(here, 'gradient-worker.js'), join(here, 'gradient-worker.ts')]
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`No gradient worker script next to ${here}; pass workerPath.`)
  return found
}

interface WorkerHandle {
  worker: Worker
  next(): Promise<FromWorker>
}

function startWorker(path: string, init: InitMessage): WorkerHandle {
  // Unbundled TypeScript (benches, tests) is loaded through tsx's require hook in the worker.
  const worker = path.endsWith('.ts')
    ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(path)})`, {
        eval: true
      })
    : new Worker(path)
  const queue: FromWorker[] = []
  const waiting: Array<(m: FromWorker) => void> = []
  const deliver = (m: FromWorker): void => {
    const resolve = waiting.shift()
    if (resolve) resolve(m)
    else queue.push(m)
  }
  worker.on('message', deliver)
  worker.on('error', (error) => deliver({ type: 'error', message: error.message }))
  worker.postMessage(init satisfies ToWorker)
  return {
    worker,
    next: () => {
      const queued = queue.shift()
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve))
    }
  }
}

async function awaitMessage(
  handle: WorkerHandle,
  type: FromWorker['type'],
  timeoutMs?: number
): Promise<FromWorker> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    if (timeoutMs)
      timer = setTimeout(
        () => reject(new Error('A training worker did not start in time.')),
        timeoutMs
      )
  })
  try {
    const message = await Promise.race([handle.next(), timeout])
    if (message.type === 'error') throw new Error(`Training worker failed: ${message.message}`)
    if (message.type !== type)
      throw new Error(`Training worker sent ${message.type}, expected ${type}.`)
    return message
  } finally {
    clearTimeout(timer)
  }
}

/** Starts the workers and returns a trainer whose steps use every thread. */
export async function createParallelTrainer(
  options: ParallelTrainerOptions
): Promise<ParallelTrainer> {
  const { model } = options
  const params = model.variables.reduce((n, v) => n + v.size, 0)
  const workers = Math.max(0, options.workers)
  const threads = workers + 1
  const data: SharedData = {
    ...options.data,
    images: toShared(options.data.images, (b) => new Float32Array(b)),
    labels: toShared(options.data.labels, (b) => new Int32Array(b))
  }
  const ownOptimizer = options.optimizer ? makeOptimizer(options.optimizer) : null
  // Fused SGD and Adam step the thread's own copy of the weights and moments where it lies in
  // shared memory, next to the gradient slots (native/optimizer.c), each thread all of it: no
  // thread waits for another's update, only for its gradients.
  const flat = rangeStepper(ownOptimizer)
  const state = allocateSharedState(params, threads, flat !== null && options.optimizer?.name === 'adam', {
    wasm: options.wasmOptimizer
  })
  const views = sharedViews(state)
  const { grads } = views
  // Thread 0's copy: the starting point every worker copies, and the broadcast weights.
  const weights = views.weights(0)
  storeWeights(model.variables, weights)
  const control = new Int32Array(
    new SharedArrayBuffer(controlSlots.length(threads) * Int32Array.BYTES_PER_ELEMENT)
  )
  const kernel = flat ? rangeKernel(state) : null
  flat?.shareState(model.variables, {
    weights,
    moments: views.moments(0),
    kernel: kernel ? { step: kernel, shares: views.shares(0) } : undefined
  })
  // Steps are handed over in shared memory; a batch can hold at most every training sample.
  const boardBuffers = StepBoard.allocate(threads, data.labels.length)
  const board = new StepBoard(threads, boardBuffers.batch, boardBuffers.results)
  const average = new Float32Array(params)
  const path = options.workerPath ?? defaultWorkerPath()
  const handles = Array.from({ length: workers }, (_, i) =>
    startWorker(path, {
      type: 'init',
      backend: options.backend,
      modelModule: options.modelModule ?? '',
      modelExport: options.modelExport ?? 'createModel',
      modelInit: options.modelInit,
      images: data.images.buffer as SharedArrayBuffer,
      imageShape: data.imageShape,
      labels: data.labels.buffer as SharedArrayBuffer,
      numClasses: data.numClasses,
      state,
      control: control.buffer as SharedArrayBuffer,
      batch: boardBuffers.batch,
      results: boardBuffers.results,
      thread: i + 1,
      threads,
      optimizer: options.optimizer
    })
  )
  const workerBackends: string[] = []
  try {
    for (const h of handles) {
      const ready = await awaitMessage(h, 'ready', WORKER_READY_TIMEOUT_MS)
      if (ready.type === 'ready') workerBackends.push([ready.backend, ...ready.notes].join(' '))
    }
  } catch (error) {
    await Promise.all(handles.map((h) => h.worker.terminate()))
    throw error
  }
  const blocking = (options.wait ?? (canBlock() ? 'block' : 'async')) === 'block'
  const waitFor = async (slot: (t: number) => number, step: number, what: string): Promise<void> =>
    blocking
      ? waitForThreads(control, threads, slot, step, what)
      : await waitForThreadsAsync(control, threads, slot, step, what)
  let stepCount = 0
  let learningRate = options.optimizer?.learningRate

  return {
    threads,
    wait: blocking ? 'block' : 'async',
    workerBackends,
    optimizer: ownOptimizer,
    weightUpdate: flat ? (kernel ? 'wasm' : 'javascript') : null,
    async step(indices, optimizer) {
      const apply = ownOptimizer ?? optimizer
      if (!apply)
        throw new Error('This parallel trainer has no optimizer spec; pass step() an optimizer.')
      const step = ++stepCount
      const shardSize = Math.ceil(indices.length / threads)
      const shardSizes = Array.from({ length: threads }, (_, t) =>
        Math.max(0, Math.min(shardSize, indices.length - t * shardSize))
      )
      board.write(indices, shardSizes, learningRate)
      signalStep(control, controlSlots.posted, step)
      const own = gradSlot(grads, step, 0, threads, params)
      let loss = 0
      let hits = 0
      if (shardSizes[0]! > 0) {
        const batch = gatherBatch(data, indices.subarray(0, shardSizes[0]))
        const mine = lossAndGradients(model.variables, batchLoss(model, batch.x, batch.y), own)
        batch.x.dispose()
        batch.y.dispose()
        loss = mine.loss * shardSizes[0]!
        hits = mine.hits
      } else {
        own.fill(0)
      }
      signalStep(control, controlSlots.gradients(0), step)
      try {
        // The workers take as long as this thread did: a short blocking wait, woken by a futex.
        await waitFor(controlSlots.gradients, step, 'gradients')
        for (let t = 1; t < threads; t++) {
          const r = board.result(t)
          loss += r.loss * shardSizes[t]!
          hits += r.hits
        }
        const slots = Array.from({ length: threads }, (_, t) => gradSlot(grads, step, t, threads, params))
        if (flat) {
          flat.applyRange(slots, shardSizes, 0, params)
          loadWeights(model.variables, weights)
        } else {
          averageGradients(slots, shardSizes, average)
          applyFlatGradients(apply, model.variables, average)
          if (!ownOptimizer) storeWeights(model.variables, weights)
        }
      } catch (error) {
        if (error instanceof ThreadFailed) {
          // The worker posted why before it raised the flag.
          const handle = handles[error.thread - 1]
          if (handle) await awaitMessage(handle, 'ready', WORKER_READY_TIMEOUT_MS)
        }
        throw error
      }
      return { loss: loss / indices.length, hits }
    },
    setLearningRate(lr) {
      if (!ownOptimizer) throw new Error('Only a replicated parallel trainer owns a learning rate.')
      learningRate = lr
      setOptimizerLearningRate(ownOptimizer, lr)
    },
    async close() {
      signalStep(control, controlSlots.posted, CLOSED)
      await Promise.all(handles.map((h) => h.worker.terminate()))
      ownOptimizer?.dispose()
    }
  }
}
