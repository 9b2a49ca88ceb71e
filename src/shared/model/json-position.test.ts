import { describe, expect, it } from 'vitest'
import { findJsonSyntaxProblem, lineAndColumn } from './json-position'

const SAMPLE = JSON.stringify(
  { a: [1, -2.5e3, true, false, null], b: { c: 'x\\"y\u00e9\n' }, d: [], e: {} },
  null,
  2
)

describe('findJsonSyntaxProblem', () => {
  it('accepts exactly what JSON.parse accepts, for every prefix and corruption', () => {
    const chars = '{}[]",:0123456789 -.eEtrufalsn\\'
    const texts: string[] = [SAMPLE, '"\\u00e"', '"\\u12"', '01', '1.', '-', '1e+', 'tru', 'nulx']
    for (let i = 0; i <= SAMPLE.length; i++) texts.push(SAMPLE.slice(0, i))
    for (let i = 0; i < SAMPLE.length; i++) {
      for (const ch of chars) texts.push(SAMPLE.slice(0, i) + ch + SAMPLE.slice(i + 1))
    }
    for (const text of texts) {
      let valid = true
      try {
        JSON.parse(text)
      } catch {
        valid = false
      }
      const problem = findJsonSyntaxProblem(text)
      expect(problem === null, text).toBe(valid)
    }
  })

  it('marks a text that simply stops as truncated', () => {
    expect(findJsonSyntaxProblem('{"a": [1, 2')).toMatchObject({ position: 11, truncated: true })
    expect(findJsonSyntaxProblem('{"a" 1}')).toMatchObject({ position: 5, truncated: false })
    expect(findJsonSyntaxProblem('['.repeat(1_000_000))).toMatchObject({ truncated: true })
  })

  it('converts positions to lines and columns', () => {
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 })
  })
})
