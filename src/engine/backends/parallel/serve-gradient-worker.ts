import { parentPort } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../select'
import {
  applyFlatGradients,
  averageGradients,
  batchLoss,
  gatherBatch,
  gradSlot,
  lossAndGradients,
  loadWeights,
  type SharedData
} from './shard'
import { makeOptimizer, setOptimizerLearningRate } from './optimizer'
import type {
  FromWorker,
  GradientModel,
  GradientModelFactory,
  InitMessage,
  StepMessage,
  ToWorker
} from './protocol'

interface WorkerState {
  init: InitMessage
  model: GradientModel
  data: SharedData
  weights: Float32Array
  grads: Float32Array
  control: Int32Array
  /** Present in replicated mode: this thread's copy of the optimizer. */
  optimizer: tf.Optimizer | null
  average: Float32Array
}

/** How long a worker waits for the main thread's gradients before reporting a stall. */
const MAIN_GRADS_TIMEOUT_MS = 60_000

/** require() where this worker runs as CommonJS (the engine bundle, tsx), else import(). */
async function loadFactory(message: InitMessage): Promise<GradientModelFactory> {
  const path = message.modelModule
  if (!path)
    throw new Error('The parallel trainer named no model module and the worker has no factory.')
  let imported: Record<string, unknown>
  if (typeof require === 'function' && !path.startsWith('file:')) {
    imported = require(path) as Record<string, unknown>
  } else {
    const url = path.startsWith('file:') ? path : pathToFileURL(path).href
    imported = (await import(/* @vite-ignore */ url)) as Record<string, unknown>
  }
  const factory = imported[message.modelExport]
  if (typeof factory !== 'function') {
    throw new Error(`${path} does not export a function ${message.modelExport}.`)
  }
  return factory as GradientModelFactory
}

function post(message: FromWorker): void {
  parentPort?.postMessage(message)
}

async function init(message: InitMessage, factory?: GradientModelFactory): Promise<WorkerState> {
  const chosen = await selectBackend(message.backend)
  const build = factory ?? (await loadFactory(message))
  const model = build(message.modelInit)
  const params = model.variables.reduce((n, v) => n + v.size, 0)
  const state: WorkerState = {
    init: message,
    model,
    data: {
      images: new Float32Array(message.images),
      imageShape: message.imageShape,
      labels: new Int32Array(message.labels),
      numClasses: message.numClasses
    },
    weights: new Float32Array(message.weights),
    grads: new Float32Array(message.grads),
    control: new Int32Array(message.control),
    optimizer: message.optimizer ? makeOptimizer(message.optimizer) : null,
    average: new Float32Array(params)
  }
  // Replicas start from the main thread's weights, not from their own initialisation.
  loadWeights(model.variables, state.weights)
  post({ type: 'ready', backend: chosen.backend, notes: chosen.notes })
  return state
}

function runStep(s: WorkerState, message: StepMessage): void {
  const { thread, threads } = s.init
  const params = s.average.length
  // Broadcast mode: the main thread owns the optimizer and shares fresh weights every step.
  if (!s.optimizer) loadWeights(s.model.variables, s.weights)
  const { x, y } = gatherBatch(s.data, message.indices)
  const own = gradSlot(s.grads, message.step, thread, threads, params)
  const { loss, hits } = lossAndGradients(s.model.variables, batchLoss(s.model, x, y), own)
  tf.dispose([x, y])
  post({ type: 'done', loss, hits })
  if (!s.optimizer) return
  // Replicated mode: wait for the main thread's gradients, then take the same step it takes.
  for (
    let seen = Atomics.load(s.control, 0);
    seen < message.step;
    seen = Atomics.load(s.control, 0)
  ) {
    if (Atomics.wait(s.control, 0, seen, MAIN_GRADS_TIMEOUT_MS) === 'timed-out') {
      throw new Error('The main thread never shared its gradients.')
    }
  }
  const slots = Array.from({ length: threads }, (_, t) =>
    gradSlot(s.grads, message.step, t, threads, params)
  )
  averageGradients(slots, message.shardSizes, s.average)
  if (message.learningRate !== undefined) setOptimizerLearningRate(s.optimizer, message.learningRate)
  applyFlatGradients(s.optimizer, s.model.variables, s.average)
}

/**
 * Runs the parallel trainer's worker side in this thread: selects a backend, builds the model
 * (with `factory`, or else from the module the trainer names), then answers gradient requests.
 * A bundled engine gives its own worker entry that calls this with a factory.
 */
export function serveGradientWorker(factory?: GradientModelFactory): void {
  const port = parentPort
  if (!port) throw new Error('serveGradientWorker must run in a worker thread.')
  let state: Promise<WorkerState> | null = null
  const fail = (error: unknown): void => post({ type: 'error', message: String(error) })
  port.on('message', (message: ToWorker) => {
    if (message.type === 'init') {
      state = init(message, factory)
      state.catch(fail)
    } else if (message.type === 'step') {
      state?.then((s) => runStep(s, message)).catch(fail)
    } else {
      port.close()
    }
  })
}
