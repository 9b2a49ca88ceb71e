import { describe, expect, it } from 'vitest'
import { nextInGrid, nextInRow } from './roving-focus'

describe('roving focus', () => {
  it('moves along a row with arrows, wrapping, and jumps with Home and End', () => {
    expect(nextInRow('ArrowRight', 4, 5)).toBe(0)
    expect(nextInRow('ArrowLeft', 0, 5)).toBe(4)
    expect(nextInRow('ArrowDown', 1, 2)).toBe(0)
    expect(nextInRow('Home', 3, 5)).toBe(0)
    expect(nextInRow('End', 0, 5)).toBe(4)
    expect(nextInRow('Tab', 0, 5)).toBeNull()
  })

  it('moves in a grid by cells and rows without leaving it', () => {
    // 10 items in rows of 4: 0-3, 4-7, 8-9.
    expect(nextInGrid('ArrowRight', 3, 10, 4)).toBe(4)
    expect(nextInGrid('ArrowDown', 1, 10, 4)).toBe(5)
    expect(nextInGrid('ArrowDown', 6, 10, 4)).toBeNull()
    expect(nextInGrid('ArrowUp', 9, 10, 4)).toBe(5)
    expect(nextInGrid('ArrowLeft', 0, 10, 4)).toBeNull()
    expect(nextInGrid('End', 0, 10, 4)).toBe(9)
    expect(nextInGrid('Enter', 0, 10, 4)).toBeNull()
  })
})
