import { describe, expect, it } from 'vitest'
import type { LoadedDataset, SplitData } from '../data/datasets/types'
import { DEFAULT_HYPER } from '../shared/hyper'
import { planSplit } from './data'
import {
  makeNormalizer,
  normalizeFloats,
  normalizerForRun,
  pixelStats,
  planForHyper,
  planStratifiedSplit
} from './preprocess'

const floats = (...v: number[]) => Float32Array.from(v)
const close = (a: Float32Array, b: number[]) => [...a].forEach((x, i) => expect(x).toBeCloseTo(b[i], 5))

describe('normalizeFloats', () => {
  it('unit keeps [0, 1], none restores 0–255, centered maps to [-1, 1]', () => {
    close(normalizeFloats(floats(0, 0.5, 1), 1, 3, 'unit'), [0, 0.5, 1])
    close(normalizeFloats(floats(0, 0.5, 1), 1, 3, 'none'), [0, 127.5, 255])
    close(normalizeFloats(floats(0, 0.5, 1), 1, 3, 'centered'), [-1, 0, 1])
  })

  it('dataset uses the given per-channel training statistics (NHWC channel order)', () => {
    const out = normalizeFloats(floats(0.5, 0.2, 0.7, 0.4), 2, 4, 'dataset', {
      mean: [0.5, 0.2],
      std: [0.1, 0.2]
    })
    close(out, [0, 0, 2, 1])
    expect(() => normalizeFloats(floats(1), 1, 1, 'dataset')).toThrow(/statistics/)
  })

  it('sample standardizes each image on its own to mean 0 and std 1', () => {
    const out = normalizeFloats(floats(0, 1, 0, 1, 0.2, 0.2, 0.2, 0.2), 1, 4, 'sample')
    close(out.subarray(0, 4), [-1, 1, -1, 1])
    // A flat image has std 0: the floor keeps it finite (all zeros after centring).
    close(out.subarray(4), [0, 0, 0, 0])
  })
})

describe('pixelStats and makeNormalizer', () => {
  const split: SplitData = {
    images: Uint8Array.from([0, 255, 255, 255, 51, 51, 51, 51]),
    labels: Uint8Array.from([0, 1]),
    count: 2
  }

  it('takes statistics over the chosen training indices only', () => {
    const first = pixelStats(split, [1, 2, 2], Int32Array.from([0]))
    expect(first.mean[0]).toBeCloseTo(0.75, 6)
    expect(first.std[0]).toBeCloseTo(Math.sqrt(0.1875), 6)
    expect(pixelStats(split, [1, 2, 2]).mean[0]).toBeCloseTo((3 + 0.8) / 8, 6)
  })

  it('computes training statistics once, lazily, and only for dataset normalization', () => {
    let calls = 0
    const stats = () => (calls++, { mean: [0.5], std: [0.25] })
    const unit = makeNormalizer('unit', [1, 1, 2], stats)
    unit(floats(1, 0))
    expect(calls).toBe(0)
    const dataset = makeNormalizer('dataset', [1, 1, 2], stats)
    close(dataset(floats(1, 0)), [2, -2])
    close(dataset(floats(0.75)), [1])
    expect(calls).toBe(1)
  })
})

describe('planStratifiedSplit', () => {
  // 900 of class 0, 100 of class 1: a 9:1 imbalance.
  const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1 : 0))

  it('keeps class proportions in the validation split and in a limited training subset', () => {
    const plan = planStratifiedSplit(labels, 1000, 2, 0.2, 7, 100)
    const count = (idx: Int32Array, c: number) => [...idx].filter((i) => labels[i] === c).length
    expect(count(plan.validation, 0)).toBe(180)
    expect(count(plan.validation, 1)).toBe(20)
    expect(plan.train).toHaveLength(100)
    expect(count(plan.train, 1)).toBe(10)
    const overlap = [...plan.train].filter((i) => plan.validation.includes(i))
    expect(overlap).toEqual([])
  })

  it('repeats for a seed, differs across seeds, and gives every sample without a limit', () => {
    const a = planStratifiedSplit(labels, 1000, 2, 0.1, 1)
    expect(planStratifiedSplit(labels, 1000, 2, 0.1, 1)).toEqual(a)
    expect(planStratifiedSplit(labels, 1000, 2, 0.1, 2).validation).not.toEqual(a.validation)
    expect(a.train.length + a.validation.length).toBe(1000)
  })
})

describe('planForHyper and normalizerForRun', () => {
  const labels = Uint8Array.from({ length: 200 }, (_, i) => i % 2)
  const images = Uint8Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0 : 255))
  const ds: LoadedDataset = {
    name: 't',
    shape: [1, 1, 1],
    classes: ['a', 'b'],
    train: { images, labels, count: 200 },
    test: { images: Uint8Array.from([0, 255]), labels: Uint8Array.from([0, 1]), count: 2 }
  }

  it('gives the same plan training used, stratified or not', () => {
    const hyper = { ...DEFAULT_HYPER, limit: 50 }
    expect(planForHyper(ds, hyper)).toEqual(planSplit(200, hyper.validationSplit, hyper.seed, 50))
    const stratified = planForHyper(ds, { ...hyper, subset: 'stratified' })
    expect([...stratified.train].filter((i) => labels[i] === 1)).toHaveLength(25)
  })

  it('scales test images with the training statistics of the run', () => {
    const normalize = normalizerForRun(ds, {
      ...DEFAULT_HYPER,
      validationSplit: 0,
      normalization: 'dataset'
    })
    // Training pixels are half 0, half 1: mean 0.5, std 0.5.
    close(normalize(Float32Array.from([0, 1])), [-1, 1])
    close(normalizerForRun(ds, { ...DEFAULT_HYPER, normalization: 'unit' })(Float32Array.from([0, 1])), [0, 1])
  })
})
