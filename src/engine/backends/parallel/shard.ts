import * as tf from '@tensorflow/tfjs-core'
import type { GradientModel } from './protocol'

/** Training data visible to every thread without copies. */
export interface SharedData {
  images: Float32Array
  imageShape: [number, number, number]
  labels: Int32Array
  numClasses: number
}

/** Gathers the samples at `indices` into a batch: images [n, h, w, c] and one-hot labels. */
export function gatherBatch(
  data: SharedData,
  indices: Int32Array
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const [h, w, c] = data.imageShape
  const size = h * w * c
  const images = new Float32Array(indices.length * size)
  const labels = new Int32Array(indices.length)
  for (let i = 0; i < indices.length; i++) {
    const at = indices[i]!
    images.set(data.images.subarray(at * size, (at + 1) * size), i * size)
    labels[i] = data.labels[at]!
  }
  const x = tf.tensor4d(images, [indices.length, h, w, c])
  const y = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), data.numClasses), 'float32')
  ) as tf.Tensor2D
  return { x, y }
}

/** A shard's mean loss and correctly classified samples (0 when the model does not count them). */
export interface ShardResult {
  loss: number
  hits: number
}

/** The loss (and hit count, where the model gives one) of a model on a batch. */
export function batchLoss(
  model: GradientModel,
  x: tf.Tensor4D,
  y: tf.Tensor2D
): () => { loss: tf.Scalar; hits?: tf.Scalar } {
  return () => (model.lossAndHits ? model.lossAndHits(x, y) : { loss: model.loss(x, y) })
}

/** Mean loss over the batch and each variable's gradient, written into `out` back to back. */
export function lossAndGradients(
  variables: tf.Variable[],
  compute: () => { loss: tf.Scalar; hits?: tf.Scalar },
  out: Float32Array
): ShardResult {
  let hits: tf.Tensor | null = null
  const { value, grads } = tf.variableGrads(() => {
    const r = compute()
    // Counted in the same forward pass; kept past the gradient scope so it can be read.
    if (r.hits) hits = tf.keep(r.hits)
    return r.loss
  }, variables)
  let offset = 0
  for (const v of variables) {
    const g = grads[v.name]!.dataSync() as Float32Array
    out.set(g, offset)
    offset += g.length
  }
  const lossValue = value.dataSync()[0]!
  const kept = hits as tf.Tensor | null
  const hitCount = kept ? kept.dataSync()[0]! : 0
  tf.dispose([value, ...Object.values(grads), ...(kept ? [kept] : [])])
  return { loss: lossValue, hits: hitCount }
}

/** Overwrites each variable with its slice of the flat `weights`. */
export function loadWeights(variables: tf.Variable[], weights: Float32Array): void {
  let offset = 0
  for (const v of variables) {
    const size = v.size
    tf.tidy(() => v.assign(tf.tensor(weights.slice(offset, offset + size), v.shape)))
    offset += size
  }
}

/** Copies every variable's values into the flat `weights`. */
export function storeWeights(variables: tf.Variable[], weights: Float32Array): void {
  let offset = 0
  for (const v of variables) {
    weights.set(v.dataSync() as Float32Array, offset)
    offset += v.size
  }
}

/** One thread's gradient slot for a step: slots alternate by step parity. */
export function gradSlot(
  all: Float32Array,
  step: number,
  thread: number,
  threads: number,
  params: number
): Float32Array {
  const start = ((step % 2) * threads + thread) * params
  return all.subarray(start, start + params)
}

/**
 * The full batch's mean gradient from each thread's mean gradient, weighted by shard size.
 * Every thread runs this same arithmetic in the same order, so replicas stay bit-identical.
 */
export function averageGradients(slots: Float32Array[], counts: number[], out: Float32Array): void {
  const total = counts.reduce((a, b) => a + b, 0)
  out.fill(0)
  slots.forEach((slot, t) => {
    const weight = counts[t]! / total
    for (let j = 0; j < out.length; j++) out[j] = out[j]! + slot[j]! * weight
  })
}

/** An optimizer that takes the flat gradient as it is (FlatOptimizer). */
interface FlatApplier {
  applyFlat(variables: tf.Variable[], flat: Float32Array): void
}

/** Applies a flat gradient (variables back to back) with the optimizer. */
export function applyFlatGradients(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  flat: Float32Array
): void {
  // Not instanceof: tfjs's Optimizer answers instanceof for anything shaped like an optimizer.
  const fused = optimizer as Partial<FlatApplier>
  if (typeof fused.applyFlat === 'function') {
    fused.applyFlat(variables, flat)
    return
  }
  const named: tf.NamedTensorMap = {}
  let offset = 0
  for (const v of variables) {
    named[v.name] = tf.tensor(flat.subarray(offset, offset + v.size), v.shape)
    offset += v.size
  }
  optimizer.applyGradients(named)
  tf.dispose(Object.values(named))
}
