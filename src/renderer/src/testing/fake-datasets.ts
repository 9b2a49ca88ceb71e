import type {
  DatasetInspection,
  DatasetStats,
  Samples,
  SamplesRequest
} from '../../../shared/contract/datasets'
import type { DatasetInfo } from '../../../shared/contract/types'

/** MNIST's real per-class counts, so renderer tests see the same numbers as the app. */
export const MNIST_TRAIN_PER_CLASS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
export const MNIST_TEST_PER_CLASS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

function find(list: DatasetInfo[], name: string): DatasetInfo {
  const info = list.find((d) => d.name === name)
  if (!info) throw Object.assign(new Error(`Unknown dataset "${name}".`), { code: 'UNKNOWN_DATASET' })
  return info
}

function spread(total: number, classes: number): number[] {
  return Array.from({ length: classes }, (_, i) =>
    Math.floor(total / classes) + (i < total % classes ? 1 : 0)
  )
}

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes))

/** Per-class counts: MNIST's real ones, an even spread for any other dataset. */
export function fakeInspection(list: DatasetInfo[], name: string): DatasetInspection {
  const d = find(list, name)
  const mnist = d.name === 'mnist'
  return {
    name: d.name,
    shape: d.shape,
    classes: d.classes,
    train: {
      count: d.trainCount,
      perClass: mnist ? MNIST_TRAIN_PER_CLASS : spread(d.trainCount, d.classes.length)
    },
    test: {
      count: d.testCount,
      perClass: mnist ? MNIST_TEST_PER_CLASS : spread(d.testCount, d.classes.length)
    }
  }
}

/** A page of samples whose index k of class c is c + k × classes, with patterned pixels. */
export function fakeSamples(list: DatasetInfo[], req: SamplesRequest): Samples {
  const inspection = fakeInspection(list, req.name)
  const classes = inspection.classes.length
  const split = inspection[req.split]
  const total = req.classIndex === undefined ? split.count : split.perClass[req.classIndex]
  const offset = Math.min(req.offset ?? 0, total)
  const count = Math.max(0, Math.min(req.count ?? 50, total - offset))
  const indices = Array.from({ length: count }, (_, k) =>
    req.classIndex === undefined ? offset + k : req.classIndex + (offset + k) * classes
  )
  const size = inspection.shape[0] * inspection.shape[1] * inspection.shape[2]
  const pixels = new Uint8Array(count * size).map((_, p) => (p * 7) & 0xff)
  return {
    name: inspection.name,
    split: req.split,
    shape: inspection.shape,
    classIndex: req.classIndex ?? null,
    offset,
    total,
    indices,
    labels: indices.map((i) => i % classes),
    pixels: toBase64(pixels)
  }
}

/** Statistics with MNIST-like numbers. */
export function fakeStats(list: DatasetInfo[], name: string): DatasetStats {
  const inspection = fakeInspection(list, name)
  const [c, h, w] = inspection.shape
  const classes = inspection.classes.length
  return {
    name: inspection.name,
    split: 'train',
    shape: inspection.shape,
    count: inspection.train.count,
    mean: 0.1307,
    std: 0.3081,
    channelMean: new Array<number>(c).fill(0.1307),
    channelStd: new Array<number>(c).fill(0.3081),
    histogram: Array.from({ length: 32 }, (_, i) => (i === 0 ? 1000 : 10 + i)),
    meanImages: toBase64(new Uint8Array(classes * c * h * w).fill(40)),
    perClass: inspection.train.perClass
  }
}
