import { describe, expect, it } from 'vitest'
import {
  formatBytes,
  formatCompact,
  formatDuration,
  formatInt,
  formatLoss,
  formatPercent,
  formatShape,
  plural
} from './format'

describe('format', () => {
  it('formats what the learner reads', () => {
    expect(formatInt(106154)).toBe('106,154')
    expect(formatPercent(0.97123)).toBe('97.12 %')
    expect(formatPercent(1)).toBe('100.00 %')
    expect(formatShape([6, 28, 28])).toBe('6 × 28 × 28')
    expect(formatShape([120])).toBe('120')
    expect(formatLoss(0.091234)).toBe('0.09123')
  })

  it('formats durations as m:ss or h:mm:ss', () => {
    expect(formatDuration(65_000)).toBe('1:05')
    expect(formatDuration(3_725_000)).toBe('1:02:05')
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('—')
  })

  it('formats compute and memory compactly', () => {
    expect(formatCompact(840)).toBe('840')
    expect(formatCompact(2_457_600)).toBe('2.46M')
    expect(formatBytes(512)).toBe('512 bytes')
    expect(formatBytes(3 * 1024 * 1024 + 52_000)).toBe('3.05 MiB')
  })

  it('says "1 epoch", never "1 epochs"', () => {
    expect(plural(1, 'epoch')).toBe('1 epoch')
    expect(plural(0, 'epoch')).toBe('0 epochs')
    expect(plural(2000, 'image')).toBe('2,000 images')
    expect(plural(1, 'class', 'classes')).toBe('1 class')
  })
})
