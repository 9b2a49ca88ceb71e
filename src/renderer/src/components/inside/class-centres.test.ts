import { describe, expect, it } from 'vitest'
import { classCentres } from './class-centres'

describe('class labels on a map', () => {
  it('puts each class name at the median of its dots, inside its main cluster', () => {
    const points: Array<[number, number]> = [
      [0, 0],
      [1, 1],
      [2, 2],
      [100, 100], // a stray dot of class 0
      [50, 50],
      [52, 50]
    ]
    const centres = classCentres(points, [0, 0, 0, 0, 1, 1])
    expect(centres).toEqual([
      { label: 0, x: 1.5, y: 1.5 },
      { label: 1, x: 51, y: 50 }
    ])
  })

  it('draws nothing until every point has a class', () => {
    expect(classCentres([[0, 0]], [])).toEqual([])
  })
})
