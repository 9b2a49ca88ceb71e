import * as tf from '@tensorflow/tfjs-core'
import type { GradientModel } from './protocol'
import { heapOf, type WasmBackendLike } from '../wasm-kernels/heap'
import type { RangeKernel } from './shared-state'
import { withLightSaves } from '../tape'

/** Training data visible to every thread without copies. */
export interface SharedData {
  images: Float32Array
  imageShape: [number, number, number]
  labels: Int32Array
  numClasses: number
}

/** Whether the current backend copies a tensor's values when it is made (wasm: into its heap). */
function copiesOnWrite(): boolean {
  return tf.getBackend() === 'wasm'
}

/** Gathers the samples at `indices` into a batch: images [n, h, w, c] and one-hot labels. */
export function gatherBatch(
  data: SharedData,
  indices: Int32Array
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const [h, w, c] = data.imageShape
  const size = h * w * c
  const classes = data.numClasses
  const images = new Float32Array(indices.length * size)
  // One-hot rows built here rather than by tfjs's OneHot and Cast (two kernels a step); a label
  // outside [0, classes) gives a row of zeros, as tf.oneHot does.
  const oneHot = new Float32Array(indices.length * classes)
  for (let i = 0; i < indices.length; i++) {
    const at = indices[i]!
    images.set(data.images.subarray(at * size, (at + 1) * size), i * size)
    const label = data.labels[at]!
    if (label >= 0 && label < classes) oneHot[i * classes + label] = 1
  }
  const x = tf.tensor4d(images, [indices.length, h, w, c])
  const y = tf.tensor2d(oneHot, [indices.length, classes])
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
  const { value, grads } = withLightSaves(() =>
    tf.variableGrads(() => {
      const r = compute()
      // Counted in the same forward pass; kept past the gradient scope so it can be read.
      if (r.hits) hits = tf.keep(r.hits)
      return r.loss
    }, variables)
  )
  // On wasm the gradients are read where they lie in the heap (dataSync would copy each first).
  const wasm = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmBackendLike) : null
  let offset = 0
  for (const v of variables) {
    const grad = grads[v.name]!
    const g = wasm && grad.dtype === 'float32' ? heapOf(wasm, grad) : (grad.dataSync() as Float32Array)
    out.set(g, offset)
    offset += g.length
  }
  const lossValue = value.dataSync()[0]!
  const kept = hits as tf.Tensor | null
  const hitCount = kept ? kept.dataSync()[0]! : 0
  tf.dispose([value, ...Object.values(grads), ...(kept ? [kept] : [])])
  return { loss: lossValue, hits: hitCount }
}

/**
 * Overwrites each variable with its slice of the flat `weights`, as a new tensor. Not written in
 * place in the wasm heap, though that would save an allocation and a copy a variable: tfjs's
 * XNNPACK kernels (Conv2D, FusedConv2D, _FusedMatMul at inference) keep the weights they
 * packed, keyed by the tensor, so a variable changed under the same tensor would evaluate with
 * stale weights (the CLI's evaluation then disagreed with the trainer's test accuracy).
 */
export function loadWeights(variables: tf.Variable[], weights: Float32Array): void {
  // A backend that keeps the array it is given gets a copy, or the shared weights would change
  // under its tensor; wasm copies into its heap anyway.
  const view = copiesOnWrite()
  let offset = 0
  for (const v of variables) {
    const size = v.size
    const values = view ? weights.subarray(offset, offset + size) : weights.slice(offset, offset + size)
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)))
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

/**
 * Where each thread posts progress in the shared Int32 control array. posted holds the step the
 * main thread has put on the board (CLOSED when training is over), failed the index + 1 of a
 * worker that threw; gradients(t) the last step whose thread-t gradients (and loss) are in place.
 * Thread 0 is the main thread.
 */
export const controlSlots = {
  length: (threads: number): number => 2 + threads,
  posted: 0,
  failed: 1,
  gradients: (t: number): number => 2 + t
}

/** The posted step that tells workers to leave their loop. */
export const CLOSED = -1

/**
 * One step as the main thread hands it to the workers, in shared memory rather than a message
 * (a message to a thread that is computing waits for it; a futex wakes it at once): the shard
 * sizes, the batch's indices, the learning rate, and each thread's loss and hits on the way back.
 */
export class StepBoard {
  readonly sizes: Int32Array
  readonly indices: Int32Array
  private readonly values: Float64Array

  constructor(
    readonly threads: number,
    batch: SharedArrayBuffer,
    results: SharedArrayBuffer
  ) {
    this.sizes = new Int32Array(batch, 0, threads)
    this.indices = new Int32Array(batch, threads * Int32Array.BYTES_PER_ELEMENT)
    this.values = new Float64Array(results)
  }

  /** Shared buffers for a board of `threads` threads and batches of up to `capacity` samples. */
  static allocate(threads: number, capacity: number): { batch: SharedArrayBuffer; results: SharedArrayBuffer } {
    return {
      batch: new SharedArrayBuffer((threads + capacity) * Int32Array.BYTES_PER_ELEMENT),
      results: new SharedArrayBuffer((1 + 2 * threads) * Float64Array.BYTES_PER_ELEMENT)
    }
  }

  /** Puts a batch on the board, split into `sizes` (thread 0 first); refuses one too big for it. */
  write(indices: Int32Array, sizes: number[], learningRate: number | undefined): void {
    if (indices.length > this.indices.length) {
      throw new Error(`A batch of ${indices.length} samples is more than the ${this.indices.length} the parallel trainer holds.`)
    }
    this.indices.set(indices)
    this.sizes.set(sizes)
    this.values[0] = learningRate ?? Number.NaN
  }

  /** Thread t's share of the batch on the board. */
  shard(t: number): Int32Array {
    let start = 0
    for (let i = 0; i < t; i++) start += this.sizes[i]!
    return this.indices.subarray(start, start + this.sizes[t]!)
  }

  shardSizes(): number[] {
    return Array.from(this.sizes)
  }

  /** The step's learning rate, or undefined when it did not change. */
  learningRate(): number | undefined {
    const lr = this.values[0]!
    return Number.isNaN(lr) ? undefined : lr
  }

  setResult(t: number, loss: number, hits: number): void {
    this.values[1 + 2 * t] = loss
    this.values[2 + 2 * t] = hits
  }

  result(t: number): { loss: number; hits: number } {
    return { loss: this.values[1 + 2 * t]!, hits: this.values[2 + 2 * t]! }
  }
}

/** How long a thread waits for the others within one step before it reports a stall. */
export const STEP_WAIT_TIMEOUT_MS = 60_000

/**
 * Blocks until every thread's counter at `slot(t)` has reached `step` (the threads' gradients,
 * or their updates, are in place). Throws when one is still missing after STEP_WAIT_TIMEOUT_MS.
 */
export function waitForThreads(
  control: Int32Array,
  threads: number,
  slot: (t: number) => number,
  step: number,
  what: string
): void {
  for (let t = 0; t < threads; t++) {
    const at = slot(t)
    for (let seen = Atomics.load(control, at); seen < step; seen = Atomics.load(control, at)) {
      if (Atomics.load(control, controlSlots.failed) !== 0) throw new ThreadFailed(Atomics.load(control, controlSlots.failed) - 1)
      if (Atomics.wait(control, at, seen, STEP_WAIT_TIMEOUT_MS) === 'timed-out') {
        throw new Error(`Training thread ${t} never shared its ${what} for step ${step}.`)
      }
    }
  }
}

/** Atomics.waitAsync (ES2024; in Node 16+ and Chromium 87+), typed here since the project targets an older lib. */
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> }
const waitAsync = (control: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult =>
  (Atomics as unknown as { waitAsync: (...args: [Int32Array, number, number, number]) => WaitAsyncResult }).waitAsync(
    control,
    index,
    value,
    timeoutMs
  )

/**
 * The same wait, without blocking: for a thread that may not block (Electron's main process
 * throws on Atomics.wait, and a utility process may too), woken through the event loop.
 */
export async function waitForThreadsAsync(
  control: Int32Array,
  threads: number,
  slot: (t: number) => number,
  step: number,
  what: string
): Promise<void> {
  for (let t = 0; t < threads; t++) {
    const at = slot(t)
    for (let seen = Atomics.load(control, at); seen < step; seen = Atomics.load(control, at)) {
      if (Atomics.load(control, controlSlots.failed) !== 0) throw new ThreadFailed(Atomics.load(control, controlSlots.failed) - 1)
      const waited = waitAsync(control, at, seen, STEP_WAIT_TIMEOUT_MS)
      if ((waited.async ? await waited.value : waited.value) === 'timed-out') {
        throw new Error(`Training thread ${t} never shared its ${what} for step ${step}.`)
      }
    }
  }
}

/** Whether this thread may block in Atomics.wait (Node's threads may; a browser's main thread may not). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)), 0, 1, 0)
    return true
  } catch {
    return false
  }
}

/** Another thread has failed (its error comes as a message); this one stops waiting for it. */
export class ThreadFailed extends Error {
  constructor(readonly thread: number) {
    super(`Training thread ${thread} failed.`)
  }
}

/** Marks a thread as failed and wakes every thread waiting on any counter, so none waits forever. */
export function signalFailure(control: Int32Array, thread: number): void {
  Atomics.store(control, controlSlots.failed, thread + 1)
  for (let i = 0; i < control.length; i++) Atomics.notify(control, i)
}

/** Marks this thread's counter at `at` as done for `step` and wakes the threads waiting on it. */
export function signalStep(control: Int32Array, at: number, step: number): void {
  Atomics.store(control, at, step)
  Atomics.notify(control, at)
}

/** An optimizer that can take its share of a parallel step over shared weights (FlatOptimizer). */
export interface RangeStepper {
  shareState(
    variables: tf.Variable[],
    shared: { weights: Float32Array; moments?: Float32Array; kernel?: { step: RangeKernel; shares: Float32Array } }
  ): void
  applyRange(slots: Float32Array[], counts: number[], lo: number, hi: number): void
}

/** The optimizer as a RangeStepper, or null when it steps only whole (tfjs's own optimizers). */
export function rangeStepper(optimizer: tf.Optimizer | null): RangeStepper | null {
  const o = optimizer as Partial<RangeStepper> | null
  return o && typeof o.applyRange === 'function' && typeof o.shareState === 'function'
    ? (o as RangeStepper)
    : null
}
