import { describe, expect, it } from 'vitest'
import { decimate, Ema, MAX_CHART_POINTS } from './series'

describe('decimate', () => {
  it('returns short series unchanged', () => {
    const points = [1, 2, 3]
    expect(decimate(points, 10)).toBe(points)
  })

  it('caps a long series, keeps the newest half intact and the first point', () => {
    const points = Array.from({ length: 5_000 }, (_, i) => i)
    const out = decimate(points)
    expect(out.length).toBeLessThanOrEqual(MAX_CHART_POINTS)
    expect(out[0]).toBe(0)
    expect(out.slice(-MAX_CHART_POINTS / 2)).toEqual(points.slice(-MAX_CHART_POINTS / 2))
    expect([...out].sort((a, b) => a - b)).toEqual(out)
  })

  it('stays bounded when points arrive one at a time for a long run', () => {
    let series: number[] = []
    for (let i = 0; i < 20_000; i++) series = decimate([...series, i], 100)
    expect(series.length).toBeLessThanOrEqual(100)
    expect(series[series.length - 1]).toBe(19_999)
  })
})

describe('Ema', () => {
  it('starts at the first value (bias corrected) and follows a constant', () => {
    const ema = new Ema(0.9)
    expect(ema.push(2)).toBeCloseTo(2)
    expect(ema.push(2)).toBeCloseTo(2)
  })

  it('smooths a jump', () => {
    const ema = new Ema(0.9)
    ema.push(1)
    const next = ema.push(0)
    expect(next).toBeGreaterThan(0)
    expect(next).toBeLessThan(1)
  })
})
