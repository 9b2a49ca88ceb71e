import { parentPort } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../select'
import {
  applyFlatGradients,
  averageGradients,
  batchLoss,
  CLOSED,
  controlSlots,
  gatherBatch,
  gradSlot,
  lossAndGradients,
  loadWeights,
  rangeStepper,
  signalFailure,
  signalStep,
  StepBoard,
  ThreadFailed,
  waitForThreads,
  type RangeStepper,
  type SharedData
} from './shard'
import { makeOptimizer, setOptimizerLearningRate } from './optimizer'
import { rangeKernel, sharedViews } from './shared-state'
import type {
  FromWorker,
  GradientModel,
  GradientModelFactory,
  InitMessage,
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
  /** Fused SGD and Adam: the optimizer, stepping this thread's copy of the weights in shared memory. */
  flat: RangeStepper | null
  board: StepBoard
  average: Float32Array
}

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
  const views = sharedViews(message.state)
  const state: WorkerState = {
    init: message,
    model,
    data: {
      images: new Float32Array(message.images),
      imageShape: message.imageShape,
      labels: new Int32Array(message.labels),
      numClasses: message.numClasses
    },
    // Broadcast mode reads the main thread's weights; otherwise this thread steps its own copy.
    weights: message.optimizer ? views.weights(message.thread) : views.weights(0),
    grads: views.grads,
    control: new Int32Array(message.control),
    optimizer: message.optimizer ? makeOptimizer(message.optimizer) : null,
    flat: null,
    board: new StepBoard(message.threads, message.batch, message.results),
    average: new Float32Array(params)
  }
  // The same choice as the main thread's: it made the same optimizer from the same spec.
  state.flat = rangeStepper(state.optimizer)
  const kernel = state.flat ? rangeKernel(message.state) : null
  // Replicas start from the main thread's weights, not from their own initialisation.
  if (message.optimizer) state.weights.set(views.weights(0))
  state.flat?.shareState(model.variables, {
    weights: state.weights,
    moments: views.moments(message.thread),
    kernel: kernel ? { step: kernel, shares: views.shares(message.thread) } : undefined
  })
  loadWeights(model.variables, state.weights)
  post({ type: 'ready', backend: chosen.backend, notes: chosen.notes })
  return state
}

function runStep(s: WorkerState, step: number): void {
  const { thread, threads } = s.init
  const params = s.average.length
  // Read the board first: once this thread's gradients are in, the main thread may post the next step.
  const shardSizes = s.board.shardSizes()
  const learningRate = s.board.learningRate()
  const own = gradSlot(s.grads, step, thread, threads, params)
  // Broadcast mode: the main thread owns the optimizer and shares fresh weights every step.
  if (!s.optimizer) loadWeights(s.model.variables, s.weights)
  const shard = s.board.shard(thread)
  if (shard.length === 0) {
    // A batch smaller than the thread count leaves this thread nothing: it adds nothing.
    own.fill(0)
    s.board.setResult(thread, 0, 0)
  } else {
    const { x, y } = gatherBatch(s.data, shard)
    const { loss, hits } = lossAndGradients(s.model.variables, batchLoss(s.model, x, y), own)
    tf.dispose([x, y])
    s.board.setResult(thread, loss, hits)
  }
  signalStep(s.control, controlSlots.gradients(thread), step)
  if (!s.optimizer) return
  // Replicated mode: wait for every thread's gradients, then step this thread's copy with their mean.
  waitForThreads(s.control, threads, controlSlots.gradients, step, 'gradients')
  const slots = Array.from({ length: threads }, (_, t) => gradSlot(s.grads, step, t, threads, params))
  if (learningRate !== undefined) setOptimizerLearningRate(s.optimizer, learningRate)
  if (s.flat) {
    s.flat.applyRange(slots, shardSizes, 0, params)
    loadWeights(s.model.variables, s.weights)
    return
  }
  averageGradients(slots, shardSizes, s.average)
  applyFlatGradients(s.optimizer, s.model.variables, s.average)
}

/**
 * The worker's loop: sleeps on the control array until the main thread posts a step, runs it,
 * and leaves when training closes. It never returns to the event loop in between, so a step
 * starts the moment it is posted.
 */
function serveSteps(s: WorkerState): void {
  let last = 0
  for (;;) {
    let posted = Atomics.load(s.control, controlSlots.posted)
    while (posted === last) {
      Atomics.wait(s.control, controlSlots.posted, last)
      posted = Atomics.load(s.control, controlSlots.posted)
    }
    if (posted === CLOSED) return
    last = posted
    try {
      runStep(s, posted)
    } catch (error) {
      // Another thread's failure is reported by that thread.
      if (!(error instanceof ThreadFailed)) {
        post({ type: 'error', message: error instanceof Error ? error.message : String(error) })
        signalFailure(s.control, s.init.thread)
      }
      return
    }
  }
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
      // From here on this thread serves steps posted in shared memory, not messages.
      state.then(serveSteps).catch(fail)
    } else {
      port.close()
    }
  })
}
