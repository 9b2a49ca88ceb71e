import { describe, expect, it } from 'vitest'
import { KERNEL_PRESETS, convolve, maxPool2, parseKernel, pixelArithmetic, relu } from './convolve'

const preset = (id: string) => KERNEL_PRESETS.find((p) => p.id === id)!
// A 4 × 3 image with a vertical edge between columns 1 and 2.
const IMG = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]

describe('convolution playground arithmetic', () => {
  it('identity copies, Sobel x finds the vertical edge, blur presets sum to 1', () => {
    expect(Array.from(convolve(IMG, 4, 3, preset('identity')))).toEqual(IMG)
    const edge = convolve(IMG, 4, 3, preset('sobel-x'))
    // Middle row: columns 1 and 2 straddle the edge, zero padding makes column 3 negative.
    expect(Array.from(edge.slice(4, 8))).toEqual([0, 4, 4, -4])
    for (const id of ['box', 'gaussian']) {
      expect(preset(id).values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10)
    }
    expect(preset('gaussian').size).toBe(5)
  })

  it('explains one output pixel as the sum of pixel × weight, with zero padding at the border', () => {
    const { terms, sum } = pixelArithmetic(IMG, 4, 3, preset('sobel-x'), 3, 1)
    expect(terms).toHaveLength(9)
    expect(sum).toBe(convolve(IMG, 4, 3, preset('sobel-x'))[1 * 4 + 3])
    expect(terms.filter((t) => t.dx === 1).every((t) => t.pixel === 0)).toBe(true)
    expect(terms.find((t) => t.dx === -1 && t.dy === 0)).toMatchObject({ pixel: 1, weight: -2, product: -2 })
  })

  it('relu clips negatives and 2×2 max pooling halves each side', () => {
    expect(Array.from(relu([-1, 0, 2]))).toEqual([0, 0, 2])
    const p = maxPool2([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 4, 3)
    expect(p).toMatchObject({ width: 2, height: 1 })
    expect(Array.from(p.data)).toEqual([6, 8])
  })

  it('parses typed kernels with fractions and says what is wrong otherwise', () => {
    const ok = parseKernel('1/16 2/16 1/16\n2/16 4/16 2/16, 1/16 2/16 1/16')
    expect('kernel' in ok && ok.kernel.size).toBe(3)
    expect('kernel' in ok && ok.kernel.values[4]).toBeCloseTo(0.25)
    expect(parseKernel('1 2 3')).toEqual({ error: expect.stringMatching(/9 numbers .* you typed 3/) })
    expect(parseKernel('1 2 x 4 5 6 7 8 9')).toEqual({ error: expect.stringMatching(/"x" is not a number/) })
  })
})
