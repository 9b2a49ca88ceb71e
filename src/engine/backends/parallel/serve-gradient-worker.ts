import { parentPort } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../select'
import { gatherBatch, lossAndGradients, loadWeights, type SharedData } from './shard'
import type { FromWorker, GradientModel, GradientModelFactory, InitMessage, ToWorker } from './protocol'

interface WorkerState {
  model: GradientModel
  data: SharedData
  weights: Float32Array
  grads: Float32Array
}

/** require() where this worker runs as CommonJS (the engine bundle, tsx), else import(). */
async function loadFactory(message: InitMessage): Promise<GradientModelFactory> {
  const path = message.modelModule
  if (!path) throw new Error('The parallel trainer named no model module and the worker has no factory.')
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
  const state: WorkerState = {
    model: build(message.modelInit),
    data: {
      images: new Float32Array(message.images),
      imageShape: message.imageShape,
      labels: new Int32Array(message.labels),
      numClasses: message.numClasses
    },
    weights: new Float32Array(message.weights),
    grads: new Float32Array(message.grads)
  }
  post({ type: 'ready', backend: chosen.backend, notes: chosen.notes })
  return state
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
      const step = state?.then((s) => {
        loadWeights(s.model.variables, s.weights)
        const { x, y } = gatherBatch(s.data, message.indices)
        const loss = lossAndGradients(s.model.variables, () => s.model.loss(x, y), s.grads)
        tf.dispose([x, y])
        post({ type: 'done', loss })
      })
      step?.catch(fail)
    } else {
      port.close()
    }
  })
}
