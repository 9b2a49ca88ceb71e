import { describe, expect, it } from 'vitest'
import { barWidth, zoomedFloor } from './bar-scale'

describe('per-class bar scale', () => {
  it('zooms so 92 % and 99.7 % look different', () => {
    const floor = zoomedFloor([0.92, 0.997, 0.95])
    expect(floor).toBe(0.9)
    expect(barWidth(0.92, floor)).toBeCloseTo(20)
    expect(barWidth(0.997, floor)).toBeCloseTo(97)
  })

  it('keeps the full scale when a class is poorly learned, and handles empty classes', () => {
    expect(zoomedFloor([0.2, 0.99])).toBe(0)
    expect(zoomedFloor([0.6, 0.99])).toBe(0.55)
    expect(zoomedFloor([0.01, 0.5])).toBe(0)
    expect(zoomedFloor([null, null])).toBe(0)
    expect(barWidth(null, 0.9)).toBe(0)
    expect(barWidth(0.5, 0.9)).toBe(0)
  })
})
