import { describe, expect, it } from 'vitest'
import { Tsne, nearestNeighbours } from './tsne'
import { pca, symmetricEigen } from './pca'
import { neighbourAgreement } from './quality'

/** n points in d dimensions around `classes` random centres, labelled by centre. */
function blobs(n: number, d: number, classes: number, spread: number): { data: Float32Array; labels: number[] } {
  let s = 7
  const rand = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => rand() * 10))
  const data = new Float32Array(n * d)
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    const c = i % classes
    labels.push(c)
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c][j] + rand() * spread
  }
  return { data, labels }
}

describe('t-SNE and PCA', () => {
  it('t-SNE separates 5 clusters in 20-D: 10-NN class agreement in 2-D above 0.95', () => {
    const { data, labels } = blobs(600, 20, 5, 4)
    const t = new Tsne(data, 600, 20, { perplexity: 30 })
    for (let i = 0; i < 500; i++) t.step()
    expect(t.embedding.every(Number.isFinite)).toBe(true)
    expect(neighbourAgreement(t.embedding, labels, 10)).toBeGreaterThan(0.95)
  })

  it('handles duplicate points without producing NaN', () => {
    const data = new Float32Array(100 * 3)
    for (let i = 0; i < 100; i++) data[i * 3] = i % 2
    const t = new Tsne(data, 100, 3, { perplexity: 5 })
    for (let i = 0; i < 50; i++) t.step()
    expect(t.embedding.every(Number.isFinite)).toBe(true)
  })

  it('finds exact nearest neighbours', () => {
    const data = Float32Array.from([0, 0, 1, 0, 5, 0, 1.5, 0])
    const { idx } = nearestNeighbours(data, 4, 2, 2)
    expect(Array.from(idx.slice(0, 2))).toEqual([1, 3])
  })

  it('PCA recovers the dominant direction and its explained variance', () => {
    // Points along (1, 1, 0) with small noise in the other directions.
    const n = 400
    const data = new Float32Array(n * 3)
    for (let i = 0; i < n; i++) {
      const t = (i / n - 0.5) * 10
      data[i * 3] = t + Math.sin(i) * 0.1
      data[i * 3 + 1] = t + Math.cos(i * 1.3) * 0.1
      data[i * 3 + 2] = Math.sin(i * 0.7) * 0.1
    }
    const r = pca(data, n, 3, 2)
    expect(r.explainedVariance[0]).toBeGreaterThan(0.99)
    expect(r.explainedVariance[0] + r.explainedVariance[1]).toBeLessThanOrEqual(1.0000001)
    // The first coordinate follows t (up to sign).
    const corr = Math.abs(r.projected[0] - r.projected[(n - 1) * 2]) / Math.SQRT2
    expect(corr).toBeGreaterThan(9)
  })

  it('PCA on wide data (d much larger than k) agrees with class structure', () => {
    const { data, labels } = blobs(300, 200, 3, 1)
    const r = pca(data, 300, 200, 2)
    expect(neighbourAgreement(r.projected, labels, 10)).toBeGreaterThan(0.95)
    expect(r.explainedVariance[0]).toBeGreaterThan(r.explainedVariance[1])
  })

  it('Jacobi eigen-decomposition of a symmetric matrix', () => {
    const { values } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2)
    expect(values[0]).toBeCloseTo(3)
    expect(values[1]).toBeCloseTo(1)
  })
})
