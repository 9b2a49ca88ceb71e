/** One point of a line chart; x is a step or an epoch number. */
export interface Point {
  x: number
  y: number
}

/** Most points a live chart holds; older ones are thinned first so the recent past stays sharp. */
export const MAX_CHART_POINTS = 2_000

/**
 * Keeps at most `max` points: the newest half untouched, every other point of the older part
 * dropped. Called repeatedly, old history gets progressively coarser.
 */
export function decimate<T>(points: T[], max = MAX_CHART_POINTS): T[] {
  let out = points
  while (out.length > max) {
    const keepRecent = Math.floor(max / 2)
    const split = out.length - keepRecent
    const older = out.slice(0, split).filter((_, i) => i % 2 === 0)
    out = [...older, ...out.slice(split)]
  }
  return out
}

/** Exponential moving average with bias correction, as TensorBoard smooths loss curves. */
export class Ema {
  private value = 0
  private steps = 0

  constructor(private readonly beta: number) {}

  push(x: number): number {
    this.steps += 1
    this.value = this.beta * this.value + (1 - this.beta) * x
    return this.value / (1 - this.beta ** this.steps)
  }
}
