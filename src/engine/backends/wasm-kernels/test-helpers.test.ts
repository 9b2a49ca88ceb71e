import { describe, expect, it } from 'vitest'
import { maxAbsDiff } from './test-helpers'

describe('maxAbsDiff', () => {
  it('gives the largest difference of equally long arrays', () => {
    expect(maxAbsDiff([1, 2, 3], new Float32Array([1, 2.5, 2]))).toBe(1)
    expect(maxAbsDiff([], [])).toBe(0)
  })

  it('never lets arrays of different lengths pass a tolerance check', () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2])).toBe(Number.POSITIVE_INFINITY)
    expect(maxAbsDiff([], [0])).toBe(Number.POSITIVE_INFINITY)
    expect(maxAbsDiff(new Float32Array(4), new Float32Array(8))).not.toBeLessThan(1e-3)
  })

  it('reports NaN rather than skipping it', () => {
    expect(maxAbsDiff([0, Number.NaN, 0], [0, 0, 0])).toBeNaN()
  })
})
