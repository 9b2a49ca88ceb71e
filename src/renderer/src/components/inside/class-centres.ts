/** Where one class's name is drawn on a map. */
export interface ClassCentre {
  label: number
  x: number
  y: number
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * The median point of each class's dots: inside the main cluster even when a few dots stray
 * (a mean would fall between two clusters of one class). Classes without dots are left out.
 */
export function classCentres(points: ReadonlyArray<readonly [number, number]>, labels: readonly number[]): ClassCentre[] {
  if (labels.length < points.length || points.length === 0) return []
  const byClass = new Map<number, { xs: number[]; ys: number[] }>()
  points.forEach(([x, y], i) => {
    const entry = byClass.get(labels[i]) ?? { xs: [], ys: [] }
    entry.xs.push(x)
    entry.ys.push(y)
    byClass.set(labels[i], entry)
  })
  return [...byClass.entries()]
    .sort(([a], [b]) => a - b)
    .map(([label, { xs, ys }]) => ({ label, x: median(xs), y: median(ys) }))
}
