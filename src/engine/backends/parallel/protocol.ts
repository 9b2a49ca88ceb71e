import type * as tf from '@tensorflow/tfjs-core'
import type { BackendChoice } from '../../../shared/hyper'

/** A model as the parallel trainer needs it: its trainable variables and a batch loss. */
export interface GradientModel {
  variables: tf.Variable[]
  /** Mean loss of images [n, h, w, c] against one-hot labels [n, classes]. */
  loss(x: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Scalar
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
  weights: SharedArrayBuffer
  grads: SharedArrayBuffer
}

/** Computes the gradient of the mean loss over `indices` at the current shared weights. */
export interface StepMessage {
  type: 'step'
  indices: Int32Array
}

export type ToWorker = InitMessage | StepMessage | { type: 'close' }

export type FromWorker =
  | { type: 'ready'; backend: string; notes: string[] }
  | { type: 'done'; loss: number }
  | { type: 'error'; message: string }
