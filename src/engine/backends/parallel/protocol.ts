import type * as tf from '@tensorflow/tfjs-core'
import type { BackendChoice } from '../../../shared/hyper'
import type { OptimizerSpec } from './optimizer'
import type { SharedState } from './shared-state'

/** A model as the parallel trainer needs it: its trainable variables and a batch loss. */
export interface GradientModel {
  variables: tf.Variable[]
  /** Mean loss of images [n, h, w, c] against one-hot labels [n, classes]. */
  loss(x: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Scalar
  /** Optional: the mean loss and how many samples the batch's logits classify right. */
  lossAndHits?(x: tf.Tensor4D, oneHot: tf.Tensor2D): { loss: tf.Scalar; hits: tf.Scalar }
  dispose(): void
}

/** What a worker's model module exports: a factory called with the trainer's `modelInit`. */
export type GradientModelFactory = (init: unknown) => GradientModel

/** Sent once to each worker. Buffers are SharedArrayBuffers, read and written in place. */
export interface InitMessage {
  type: 'init'
  backend: BackendChoice
  modelModule: string
  modelExport: string
  modelInit: unknown
  images: SharedArrayBuffer
  imageShape: [number, number, number]
  labels: SharedArrayBuffer
  numClasses: number
  /** The weights, Adam's moments and the gradient slots (shared-state.ts), read and written in place. */
  state: SharedState
  /** Int32 step counters, laid out by controlSlots() (shard.ts): each thread's gradients, updates. */
  control: SharedArrayBuffer
  /** Int32: every thread's shard size, then the batch's sample indices (see StepBoard). */
  batch: SharedArrayBuffer
  /** Float64: the step's learning rate (NaN: unchanged), then each thread's loss and hits. */
  results: SharedArrayBuffer
  /** This worker's thread index (1 and up). */
  thread: number
  threads: number
  /** When set, every thread applies the averaged gradients itself (no weight broadcast). */
  optimizer?: OptimizerSpec
}

/** Messages from the trainer to a worker (steps go through shared memory, see StepBoard). */
export type ToWorker = InitMessage | { type: 'close' }

/** Messages from a worker to the trainer. */
export type FromWorker =
  | { type: 'ready'; backend: string; notes: string[] }
  | { type: 'error'; message: string }
