import { tf } from './tf'
import type { Normalizer } from './preprocess'
import type { LoadedDataset, SplitData } from '../data/datasets/types'
import { seededRandom } from '../shared/random'

export { seededRandom }

/** A split held on the backend as float images [n, h, w, c] in [0, 1] and int32 labels. */
export interface SplitTensors {
  /** Uploaded on first use when the split is shared, so threaded runs never hold two copies. */
  readonly images: tf.Tensor4D
  labels: tf.Tensor1D
  count: number
  /** [height, width, channels] of one image. */
  imageShape: [number, number, number]
  /** The same samples in shared memory for gradient worker threads; null unless asked for. */
  shared: { images: Float32Array; labels: Int32Array } | null
  dispose(): void
}

/** Which training samples train and which validate; the test split is never among them. */
export interface SplitPlan {
  train: Int32Array
  validation: Int32Array
}


/** Fisher-Yates shuffle in place with a seeded generator. */
export function shuffleInPlace(a: Int32Array, random: () => number): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
  return a
}

/**
 * Carves a seeded random validation fraction out of the training split, then keeps the first
 * `limit` of the remaining samples (in file order) for training.
 */
export function planSplit(trainCount: number, validationSplit: number, seed: number, limit?: number): SplitPlan {
  const all = new Int32Array(trainCount)
  for (let i = 0; i < trainCount; i++) all[i] = i
  const valCount = Math.round(trainCount * validationSplit)
  const isVal = new Uint8Array(trainCount)
  const shuffled = shuffleInPlace(all.slice(), seededRandom(seed ^ 0x5eed))
  for (let i = 0; i < valCount; i++) isVal[shuffled[i]] = 1
  const validation = new Int32Array(valCount)
  const rest = new Int32Array(trainCount - valCount)
  let v = 0
  let r = 0
  for (let i = 0; i < trainCount; i++) {
    if (isVal[i]) validation[v++] = i
    else rest[r++] = i
  }
  validation.sort()
  const train = limit !== undefined && limit < rest.length ? rest.slice(0, limit) : rest
  return { train, validation }
}

/** One byte per pixel to floats in [0, 1]: one pass, no per-sample work. */
function toFloats(bytes: Uint8Array, shared: boolean): Float32Array {
  const out = shared ? new Float32Array(new SharedArrayBuffer(bytes.length * 4)) : new Float32Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255
  return out
}

/**
 * Builds the chosen samples of a split as one float tensor scaled to [0, 1]. With `share`, the
 * floats live in shared memory for worker threads and the tensor is uploaded only if used.
 */
export function toTensors(
  split: SplitData,
  shape: [number, number, number],
  indices?: Int32Array,
  share = false,
  normalize?: Normalizer
): SplitTensors {
  const [c, h, w] = shape
  const size = h * w * c
  const count = indices ? indices.length : split.count
  let bytes: Uint8Array
  if (!indices) bytes = split.images.subarray(0, count * size)
  else {
    bytes = new Uint8Array(count * size)
    for (let i = 0; i < count; i++) bytes.set(split.images.subarray(indices[i] * size, (indices[i] + 1) * size), i * size)
  }
  const labelValues = share ? new Int32Array(new SharedArrayBuffer(count * 4)) : new Int32Array(count)
  for (let i = 0; i < count; i++) labelValues[i] = split.labels[indices ? indices[i] : i]
  const floats = toFloats(bytes, share)
  normalize?.(floats)
  let images: tf.Tensor4D | null = share ? null : tf.tensor4d(floats, [count, h, w, c])
  const labels = tf.tensor1d(labelValues, 'int32')
  return {
    get images() {
      images ??= tf.tensor4d(floats, [count, h, w, c])
      return images
    },
    labels,
    count,
    imageShape: [h, w, c],
    shared: share ? { images: floats, labels: labelValues } : null,
    dispose() {
      images?.dispose()
      labels.dispose()
    }
  }
}

/** Everything the trainer needs from a dataset, on the backend. */
export interface TrainingData {
  train: SplitTensors
  validation: SplitTensors | null
  test: SplitTensors
  numClasses: number
  dispose(): void
}

/**
 * Builds the train, validation and test tensors for a job; `shareTrain` keeps the training
 * images in shared memory for gradient worker threads.
 */
export function prepareData(
  ds: LoadedDataset,
  plan: SplitPlan,
  shareTrain = false,
  normalize?: Normalizer
): TrainingData {
  const train = toTensors(ds.train, ds.shape, plan.train, shareTrain, normalize)
  const validation =
    plan.validation.length > 0 ? toTensors(ds.train, ds.shape, plan.validation, false, normalize) : null
  const test = toTensors(ds.test, ds.shape, undefined, false, normalize)
  const all = [train, validation, test]
  return {
    train,
    validation,
    test,
    numClasses: ds.classes.length,
    dispose() {
      for (const s of all) s?.dispose()
    }
  }
}
