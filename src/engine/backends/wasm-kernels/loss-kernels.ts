import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { heapOf as heap, type WasmBackendLike } from './heap'

/** Kernel names of the fused loss ops (engine/fused-loss.ts) that only the wasm backend has. */
export const SOFTMAX_CROSS_ENTROPY = 'CnnwbSoftmaxCrossEntropy'
export const SOFTMAX_CROSS_ENTROPY_GRAD = 'CnnwbSoftmaxCrossEntropyGrad'
export const COUNT_HITS = 'CnnwbCountHits'

/** The [rows, classes] of a logits tensor and its labels of the same shape, checked. */
function rowsAndClasses(kernel: string, logits?: TensorInfo, labels?: TensorInfo): [number, number] {
  if (!logits || !labels) throw new Error(`${kernel} needs logits and labels.`)
  if (logits.shape.length !== 2 || logits.shape.join() !== labels.shape.join())
    throw new Error(`${kernel}: logits and labels must both be [rows, classes]; got [${logits.shape}] and [${labels.shape}].`)
  return [logits.shape[0]!, logits.shape[1]!]
}

/** A kernel whose output is one float32 computed from logits and labels, both [rows, classes]. */
function scalarOfRows(
  kernelName: string,
  compute: (logits: Float32Array, labels: Float32Array, rows: number, classes: number) => number
): KernelConfig {
  const kernelFunc = ({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo => {
    const [rows, classes] = rowsAndClasses(kernelName, inputs.logits, inputs.labels)
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput([], 'float32')
    // Views taken after makeOutput, which may grow (and detach) the heap.
    const value = compute(heap(wasm, inputs.logits), heap(wasm, inputs.labels), rows, classes)
    heap(wasm, out)[0] = value
    return out
  }
  return { kernelName, backendName: 'wasm', kernelFunc }
}

/**
 * log(sum_j exp(x[j])) of one row, shifted by its maximum as tfjs's logSumExp does, in double
 * precision (the row is at most a few dozen classes).
 */
function logSumExp(x: Float32Array, at: number, classes: number): number {
  let max = -Infinity
  for (let j = 0; j < classes; j++) if (x[at + j]! > max) max = x[at + j]!
  if (max === -Infinity || Number.isNaN(max)) max = 0
  let sum = 0
  for (let j = 0; j < classes; j++) sum += Math.exp(x[at + j]! - max)
  return max + Math.log(sum)
}

/**
 * The mean over rows of -sum_j labels[j] * log softmax(logits)[j]: tfjs's
 * losses.softmaxCrossEntropy with its default reduction (about 15 kernels forward and 15
 * backward on the wasm backend, each a tensor and a launch for a [64, 10] input) as one.
 */
export function softmaxCrossEntropyConfig(): KernelConfig {
  return scalarOfRows(SOFTMAX_CROSS_ENTROPY, (x, y, rows, classes) => {
    let total = 0
    for (let r = 0; r < rows; r++) {
      const at = r * classes
      const lse = logSumExp(x, at, classes)
      for (let j = 0; j < classes; j++) {
        const label = y[at + j]!
        if (label !== 0) total -= label * (x[at + j]! - lse)
      }
    }
    return rows > 0 ? total / rows : Number.NaN
  })
}

/** d loss / d logits = dy * (softmax(logits) * sum(labels) - labels) / rows, row by row. */
export function softmaxCrossEntropyGradConfig(): KernelConfig {
  const kernelFunc = ({ inputs, backend }: Parameters<KernelFunc>[0]): TensorInfo => {
    const [rows, classes] = rowsAndClasses(SOFTMAX_CROSS_ENTROPY_GRAD, inputs.logits, inputs.labels)
    if (!inputs.dy || inputs.dy.shape.length !== 0)
      throw new Error(`${SOFTMAX_CROSS_ENTROPY_GRAD}: dy must be the scalar gradient of the mean loss.`)
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput([rows, classes], 'float32')
    const x = heap(wasm, inputs.logits)
    const y = heap(wasm, inputs.labels)
    const g = heap(wasm, out)
    const scale = heap(wasm, inputs.dy)[0]! / rows
    for (let r = 0; r < rows; r++) {
      const at = r * classes
      const lse = logSumExp(x, at, classes)
      let labelSum = 0
      for (let j = 0; j < classes; j++) labelSum += y[at + j]!
      for (let j = 0; j < classes; j++) g[at + j] = scale * (Math.exp(x[at + j]! - lse) * labelSum - y[at + j]!)
    }
    return out
  }
  return { kernelName: SOFTMAX_CROSS_ENTROPY_GRAD, backendName: 'wasm', kernelFunc }
}

/** Index of a row's first maximum, as tfjs's argMax picks it (a NaN never wins). */
function argMax(v: Float32Array, at: number, classes: number): number {
  let best = 0
  for (let j = 1; j < classes; j++) if (v[at + j]! > v[at + best]!) best = j
  return best
}

/** How many rows' largest logit is at their label's largest entry: one kernel for argMax x 2, Equal, Cast and Sum. */
export function countHitsConfig(): KernelConfig {
  return scalarOfRows(COUNT_HITS, (x, y, rows, classes) => {
    let hits = 0
    for (let r = 0; r < rows; r++) if (argMax(x, r * classes, classes) === argMax(y, r * classes, classes)) hits++
    return hits
  })
}
