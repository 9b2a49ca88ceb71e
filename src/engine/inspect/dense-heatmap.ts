import type { DenseHeatmap } from '../../shared/contract/inspect'

/** Most cells along each side of a dense layer's heatmap; larger matrices are block-averaged. */
export const MAX_HEATMAP_SIDE = 256

/**
 * A dense kernel (row-major inputs × units, as TF.js stores it) averaged over blocks of
 * blockRows × blockCols weights so that neither side exceeds `maxSide` cells. Edge blocks that
 * are cut short average only the weights they hold.
 */
export function denseHeatmap(
  index: number,
  data: ArrayLike<number>,
  inputs: number,
  units: number,
  maxSide = MAX_HEATMAP_SIDE
): DenseHeatmap {
  const blockRows = Math.max(1, Math.ceil(inputs / maxSide))
  const blockCols = Math.max(1, Math.ceil(units / maxSide))
  const rows = Math.ceil(inputs / blockRows)
  const cols = Math.ceil(units / blockCols)
  const sums = new Float64Array(rows * cols)
  const counts = new Uint32Array(rows * cols)
  for (let i = 0; i < inputs; i++) {
    const r = Math.floor(i / blockRows) * cols
    for (let j = 0; j < units; j++) {
      const cell = r + Math.floor(j / blockCols)
      sums[cell] += data[i * units + j]
      counts[cell] += 1
    }
  }
  const values = new Array<number>(rows * cols)
  let absMax = 0
  for (let k = 0; k < values.length; k++) {
    values[k] = counts[k] ? sums[k] / counts[k] : 0
    absMax = Math.max(absMax, Math.abs(values[k]))
  }
  return { index, inputs, units, rows, cols, blockRows, blockCols, values, absMax }
}
