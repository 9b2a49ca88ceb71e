// Worker-thread entry of the parallel trainer: owns one TensorFlow.js instance and computes
// gradients of its shard of each batch at the weights the main thread shares.
import { parentPort } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import { selectBackend } from '../select'
import { gatherBatch, lossAndGradients, loadWeights, type SharedData } from './shard'
import type { FromWorker, GradientModel, GradientModelFactory, InitMessage, ToWorker } from './protocol'

interface WorkerState {
  model: GradientModel
  data: SharedData
  weights: Float32Array
  grads: Float32Array
}

async function init(message: InitMessage): Promise<WorkerState> {
  const chosen = await selectBackend(message.backend)
  const imported = await loadModule(message.modelModule)
  const factory = imported[message.modelExport] as GradientModelFactory | undefined
  if (typeof factory !== 'function') {
    throw new Error(`${message.modelModule} does not export a function ${message.modelExport}.`)
  }
  const state: WorkerState = {
    model: factory(message.modelInit),
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

/** require() where this worker runs as CommonJS (the engine bundle, tsx), else import(). */
async function loadModule(path: string): Promise<Record<string, unknown>> {
  if (typeof require === 'function' && !path.startsWith('file:')) {
    return require(path) as Record<string, unknown>
  }
  const url = path.startsWith('file:') ? path : pathToFileURL(path).href
  return (await import(/* @vite-ignore */ url)) as Record<string, unknown>
}

function post(message: FromWorker): void {
  parentPort?.postMessage(message)
}

function main(): void {
  const port = parentPort
  if (!port) throw new Error('gradient-worker must run in a worker thread.')
  let state: Promise<WorkerState> | null = null
  port.on('message', (message: ToWorker) => {
    if (message.type === 'init') {
      state = init(message)
      state.catch((error: unknown) => post({ type: 'error', message: String(error) }))
    } else if (message.type === 'step') {
      void state
        ?.then((s) => {
          loadWeights(s.model.variables, s.weights)
          const { x, y } = gatherBatch(s.data, message.indices)
          const loss = lossAndGradients(s.model.variables, () => s.model.loss(x, y), s.grads)
          tf.dispose([x, y])
          post({ type: 'done', loss })
        })
        .catch((error: unknown) => post({ type: 'error', message: String(error) }))
    } else if (message.type === 'close') {
      port.close()
    }
  })
}

main()
