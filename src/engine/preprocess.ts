import type { LoadedDataset, SplitData } from '../data/datasets/types'
import type { Hyper, Normalization } from '../shared/hyper'
import type { Preprocessing } from '../shared/contract/types'
import { planSplit, seededRandom, shuffleInPlace, type SplitPlan } from './data'

/** Normalizes one block of NHWC floats in [0, 1] in place, and returns it. */
export type Normalizer = (values: Float32Array) => Float32Array

/** Per-channel mean and standard deviation of pixel values on the 0–1 scale. */
export interface PixelStats {
  mean: number[]
  std: number[]
}

/** A standard deviation below this is treated as this, so flat images do not divide by zero. */
const MIN_STD = 1e-6

/**
 * Per-channel mean and std of the chosen samples (the training indices of a plan: never the
 * validation or test split, so no statistic leaks from held-out data).
 */
export function pixelStats(
  split: SplitData,
  shape: readonly [number, number, number],
  indices?: Int32Array
): PixelStats {
  const [channels, height, width] = shape
  const size = channels * height * width
  const count = indices ? indices.length : split.count
  const sums = new Float64Array(channels)
  const squares = new Float64Array(channels)
  for (let k = 0; k < count; k++) {
    const base = (indices ? indices[k] : k) * size
    for (let p = 0; p < size; p++) {
      const v = split.images[base + p] / 255
      const c = p % channels
      sums[c] += v
      squares[c] += v * v
    }
  }
  const n = Math.max(1, count * height * width)
  const mean = Array.from(sums, (s) => s / n)
  const std = Array.from(squares, (sq, c) => Math.sqrt(Math.max(0, sq / n - mean[c] ** 2)))
  return { mean, std }
}

/**
 * Normalizes NHWC float images that hold values in [0, 1] (what data.ts builds), in place:
 * `none` back to 0–255, `unit` unchanged, `centered` (x − 0.5) / 0.5, `dataset` per-channel
 * (x − mean) / std with the training split's `stats`, `sample` each image to mean 0 and std 1
 * (std at least 1/√pixels, as TensorFlow's per_image_standardization).
 */
export function normalizeFloats(
  values: Float32Array,
  channels: number,
  imageSize: number,
  mode: Normalization,
  stats?: PixelStats
): Float32Array {
  switch (mode) {
    case 'unit':
      return values
    case 'none':
      for (let i = 0; i < values.length; i++) values[i] *= 255
      return values
    case 'centered':
      for (let i = 0; i < values.length; i++) values[i] = (values[i] - 0.5) / 0.5
      return values
    case 'dataset': {
      if (!stats) throw new Error('dataset normalization needs the training split statistics')
      const scale = stats.std.map((s) => 1 / Math.max(s, MIN_STD))
      for (let i = 0; i < values.length; i++) {
        const c = i % channels
        values[i] = (values[i] - stats.mean[c]) * scale[c]
      }
      return values
    }
    case 'sample': {
      const floor = 1 / Math.sqrt(imageSize)
      for (let base = 0; base < values.length; base += imageSize) {
        let sum = 0
        let square = 0
        for (let p = base; p < base + imageSize; p++) {
          sum += values[p]
          square += values[p] * values[p]
        }
        const mean = sum / imageSize
        const std = Math.max(Math.sqrt(Math.max(0, square / imageSize - mean * mean)), floor)
        for (let p = base; p < base + imageSize; p++) values[p] = (values[p] - mean) / std
      }
      return values
    }
  }
}

/**
 * The normalizer for one job: a function data.ts calls on each split's floats. Training-split
 * statistics are computed lazily, only for `dataset`, and once for all three splits.
 */
export function makeNormalizer(
  mode: Normalization,
  shape: readonly [number, number, number],
  trainStats: () => PixelStats
): Normalizer {
  const [channels, height, width] = shape
  let stats: PixelStats | undefined
  return (values) => {
    if (mode === 'dataset') stats ??= trainStats()
    return normalizeFloats(values, channels, channels * height * width, mode, stats)
  }
}

/**
 * Like planSplit, but stratified: each class gives the same fraction to validation (seeded),
 * and a `limit` takes from each class in proportion to its size (largest remainders first), so
 * a 1,000-image subset keeps the class balance of the whole training split.
 */
export function planStratifiedSplit(
  labels: Uint8Array,
  count: number,
  classCount: number,
  validationSplit: number,
  seed: number,
  limit?: number
): SplitPlan {
  const byClass: number[][] = Array.from({ length: classCount }, () => [])
  for (let i = 0; i < count; i++) byClass[labels[i]].push(i)
  const random = seededRandom(seed ^ 0x57a7)
  const validation: number[] = []
  const rest: number[][] = []
  for (const members of byClass) {
    const shuffled = shuffleInPlace(Int32Array.from(members), random)
    const valCount = Math.round(members.length * validationSplit)
    validation.push(...shuffled.subarray(0, valCount))
    rest.push(Array.from(shuffled.subarray(valCount)))
  }
  const available = rest.reduce((n, r) => n + r.length, 0)
  const wanted = limit === undefined ? available : Math.min(limit, available)
  const exact = rest.map((r) => (available > 0 ? (r.length * wanted) / available : 0))
  const quota = exact.map(Math.floor)
  let missing = wanted - quota.reduce((a, b) => a + b, 0)
  const order = exact
    .map((x, c) => ({ c, remainder: x - Math.floor(x) }))
    .sort((a, b) => b.remainder - a.remainder || a.c - b.c)
  for (const { c } of order) {
    if (missing <= 0) break
    if (quota[c] < rest[c].length) {
      quota[c]++
      missing--
    }
  }
  const train = Int32Array.from(rest.flatMap((r, c) => r.slice(0, quota[c]))).sort()
  return { train, validation: Int32Array.from(validation).sort() }
}

/** The train/validation plan a run's hyperparameters give: the same split training used. */
export function planForHyper(ds: LoadedDataset, hyper: Hyper): SplitPlan {
  const { validationSplit, seed, limit } = hyper
  return hyper.subset === 'stratified'
    ? planStratifiedSplit(
        ds.train.labels,
        ds.train.count,
        ds.classes.length,
        validationSplit,
        seed,
        limit
      )
    : planSplit(ds.train.count, validationSplit, seed, limit)
}

/**
 * The normalizer a run trained with, for training and for every later use of its model
 * (evaluation, feature maps, the drawing pad): inputs must be scaled exactly as in training.
 */
export function normalizerForRun(ds: LoadedDataset, hyper: Hyper, plan?: SplitPlan): Normalizer {
  return makeNormalizer(hyper.normalization, ds.shape, () =>
    pixelStats(ds.train, ds.shape, (plan ?? planForHyper(ds, hyper)).train)
  )
}

/** The scaling a run trains with, as recorded in its run.json (statistics of its own training split). */
export function preprocessingFor(ds: LoadedDataset, hyper: Hyper, plan: SplitPlan): Preprocessing {
  if (hyper.normalization !== 'dataset') return { normalization: hyper.normalization }
  const stats = pixelStats(ds.train, ds.shape, plan.train)
  return { normalization: 'dataset', mean: Array.from(stats.mean), std: Array.from(stats.std) }
}

/**
 * The normalizer for NHWC floats in [0, 1] from a recorded preprocessing; runs recorded before
 * normalization existed were trained on [0, 1] inputs.
 */
export function normalizerOf(
  pre: Preprocessing | undefined,
  shape: readonly [number, number, number]
): Normalizer {
  const mode = pre?.normalization ?? 'unit'
  const stats =
    mode === 'dataset' && pre?.mean && pre.std ? ({ mean: pre.mean, std: pre.std } as PixelStats) : undefined
  return makeNormalizer(mode, shape, () => {
    if (!stats) throw new Error('this run recorded no dataset statistics')
    return stats
  })
}
