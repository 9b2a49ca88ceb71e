import { describe, expect, it } from 'vitest'
import { formatField, parseField } from './field-parse'

describe('layer field parsing', () => {
  it('reads sizes as n or h×w in the ways people type them', () => {
    expect(parseField('size', '3')).toEqual({ ok: true, value: 3 })
    expect(parseField('size', '3×3')).toEqual({ ok: true, value: 3 })
    expect(parseField('size', '3x5')).toEqual({ ok: true, value: [3, 5] })
    expect(parseField('size', ' 3 * 5 ')).toEqual({ ok: true, value: [3, 5] })
    expect(parseField('size', '[2, 4]')).toEqual({ ok: true, value: [2, 4] })
    expect(parseField('optionalSize', '')).toEqual({ ok: true, value: undefined })
    for (const bad of ['', '0', '3×0', '-1', '2.5', 'big', '3×3×3', '1000001']) {
      expect(parseField('size', bad).ok).toBe(false)
    }
  })

  it('reads padding, whole numbers and rates, and says what to type when it cannot', () => {
    expect(parseField('padding', 'SAME')).toEqual({ ok: true, value: 'same' })
    expect(parseField('padding', '0')).toEqual({ ok: true, value: 0 })
    expect(parseField('int', '128')).toEqual({ ok: true, value: 128 })
    expect(parseField('rate', '.5')).toEqual({ ok: true, value: 0.5 })
    const bad = parseField('rate', '1')
    expect(bad.ok).toBe(false)
    expect(!bad.ok && bad.message).toContain('from 0 up to')
    const zero = parseField('int', '0')
    expect(!zero.ok && zero.message).toContain('whole number from 1 to 1,000,000')
  })

  it('shows stored values the way the learner reads them', () => {
    expect(formatField('size', 3)).toBe('3×3')
    expect(formatField('size', [3, 5])).toBe('3×5')
    expect(formatField('optionalSize', undefined)).toBe('')
    expect(formatField('padding', 'valid')).toBe('valid')
  })
})
