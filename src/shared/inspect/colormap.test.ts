import { describe, expect, it } from 'vitest'
import { divergingColor, mapToRgba, sequentialColor } from './colormap'

describe('colour scales', () => {
  it('diverging: white at zero, blue below, red above, saturated beyond the range', () => {
    expect(divergingColor(0, 1)).toEqual([247, 247, 247])
    const neg = divergingColor(-2, 1)
    const pos = divergingColor(1, 1)
    expect(neg[2]).toBeGreaterThan(neg[0])
    expect(pos[0]).toBeGreaterThan(pos[2])
    expect(divergingColor(0.5, 0)).toEqual([247, 247, 247])
  })

  it('sequential runs dark to bright, and a map with negatives is drawn diverging', () => {
    const lum = (c: number[]): number => c[0] + c[1] + c[2]
    expect(lum(sequentialColor(1, 0, 1))).toBeGreaterThan(lum(sequentialColor(0, 0, 1)))
    const rgba = mapToRgba([-1, 0, 1], -1, 1)
    expect(Array.from(rgba.slice(4, 8))).toEqual([247, 247, 247, 255])
  })
})
