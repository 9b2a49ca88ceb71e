import { describe, expect, it } from 'vitest'
import { MNIST_SIZE_PX, preprocessDrawing } from './preprocess'

/** A canvas-sized ink image with a filled rectangle. */
function rect(w: number, h: number, x0: number, y0: number, rw: number, rh: number): Float32Array {
  const ink = new Float32Array(w * h)
  for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) ink[y * w + x] = 1
  return ink
}

function box(img: Float32Array): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = 99
  let y0 = 99
  let x1 = -1
  let y1 = -1
  for (let y = 0; y < MNIST_SIZE_PX; y++)
    for (let x = 0; x < MNIST_SIZE_PX; x++)
      if (img[y * MNIST_SIZE_PX + x] > 0.01) {
        x0 = Math.min(x0, x)
        x1 = Math.max(x1, x)
        y0 = Math.min(y0, y)
        y1 = Math.max(y1, y)
      }
  return { x0, y0, x1, y1 }
}

describe('preprocessDrawing', () => {
  it('fits a tall stroke into 20 pixels of height, keeps its aspect and centres its mass', () => {
    // A 40 × 200 bar in the top-left corner of a 280 × 280 canvas.
    const img = preprocessDrawing(rect(280, 280, 10, 5, 40, 200), 280, 280)
    const b = box(img)
    expect(b.y1 - b.y0 + 1).toBe(20)
    expect(b.x1 - b.x0 + 1).toBe(4)
    let m = 0
    let mx = 0
    let my = 0
    img.forEach((v, i) => {
      m += v
      mx += ((i % 28) + 0.5) * v
      my += (Math.floor(i / 28) + 0.5) * v
    })
    expect(Math.abs(mx / m - 14)).toBeLessThanOrEqual(0.5)
    expect(Math.abs(my / m - 14)).toBeLessThanOrEqual(0.5)
  })

  it('gives an all-zero image for an empty drawing and keeps values in [0, 1]', () => {
    expect(preprocessDrawing(new Float32Array(100 * 100), 100, 100).every((v) => v === 0)).toBe(true)
    const img = preprocessDrawing(rect(100, 100, 30, 30, 17, 13), 100, 100, { blur: true })
    expect(Math.max(...img)).toBeLessThanOrEqual(1)
    expect(Math.min(...img)).toBeGreaterThanOrEqual(0)
  })

  it('blur softens edges: more grey pixels, same peak', () => {
    const ink = rect(100, 100, 20, 20, 60, 60)
    const sharp = preprocessDrawing(ink, 100, 100)
    const soft = preprocessDrawing(ink, 100, 100, { blur: true })
    const grey = (a: Float32Array): number => a.filter((v) => v > 0.01 && v < 0.99).length
    expect(grey(soft)).toBeGreaterThan(grey(sharp))
    expect(Math.max(...soft)).toBeCloseTo(1, 5)
  })
})
