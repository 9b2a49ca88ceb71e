import { describe, expect, it } from 'vitest'
import { tf } from '../tf'
import { buildModel, snapshotWeights } from '../model'
import { denseHeatmap, MAX_HEATMAP_SIDE } from './dense-heatmap'
import { describeFilters } from '../methods/inspect-run'
import { getPreset } from '../../shared/model/presets'

describe('dense layer heatmaps', () => {
  it('keeps a small matrix cell for cell: rows are inputs, columns are units', () => {
    // 2 inputs × 3 units, row-major as TF.js stores a dense kernel.
    const h = denseHeatmap(5, [1, 2, 3, -4, -5, -6], 2, 3)
    expect(h).toMatchObject({ index: 5, inputs: 2, units: 3, rows: 2, cols: 3, blockRows: 1, blockCols: 1 })
    expect(h.values).toEqual([1, 2, 3, -4, -5, -6])
    expect(h.absMax).toBe(6)
  })

  it('averages blocks, and averages a cut-short edge block over the weights it holds', () => {
    // 5 inputs × 4 units into at most 2 cells a side: blocks of 3 inputs × 2 units.
    const data = Array.from({ length: 20 }, (_, k) => k)
    const h = denseHeatmap(0, data, 5, 4, 2)
    expect(h).toMatchObject({ rows: 2, cols: 2, blockRows: 3, blockCols: 2 })
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    // Cell (0, 0): inputs 0–2, units 0–1; cell (1, 1): inputs 3–4, units 2–3.
    expect(h.values[0]).toBeCloseTo(mean([0, 1, 4, 5, 8, 9]), 10)
    expect(h.values[3]).toBeCloseTo(mean([14, 15, 18, 19]), 10)
    expect(h.absMax).toBeCloseTo(16.5, 10)
  })

  it('caps a 784 × 512 matrix at 256 × 256 cells', () => {
    const h = denseHeatmap(1, new Float32Array(784 * 512).fill(0.25), 784, 512)
    expect(h).toMatchObject({ rows: 196, cols: 256, blockRows: 4, blockCols: 2 })
    expect(h.values).toHaveLength(196 * 256)
    expect(h.values.every((x) => Math.abs(x - 0.25) < 1e-7)).toBe(true)
    expect(Math.max(h.rows, h.cols)).toBeLessThanOrEqual(MAX_HEATMAP_SIDE)
  })

  it('describes every dense layer of lenet: 784 × 120, 120 × 84 and 84 × 10', async () => {
    await tf.setBackend('cpu')
    const spec = getPreset('lenet').spec
    const model = buildModel(spec, 1, 'lenet-dense-heatmaps')
    const weights = await snapshotWeights(model)
    const { denseLayers } = describeFilters(spec, weights)
    expect(denseLayers.map((d) => [d.index, d.inputs, d.units, d.rows, d.cols, d.blockRows, d.blockCols])).toEqual([
      [5, 784, 120, 196, 120, 4, 1],
      [6, 120, 84, 120, 84, 1, 1],
      [7, 84, 10, 84, 10, 1, 1]
    ])
    // The last layer is small enough to show as is: cell (i, j) is the weight from input i to unit j.
    const last = weights.find((w) => w.shape.join() === '84,10')
    expect(last).toBeDefined()
    expect(denseLayers[2].values[3 * 10 + 7]).toBeCloseTo(last?.data[3 * 10 + 7] ?? NaN, 6)
    model.dispose()
  })
})
