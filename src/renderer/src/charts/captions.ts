import type { ChartOptions } from 'chart.js'
import { PALETTE } from './palette'
import { formatInt } from '../format'
import type { ValidationPoint } from '../stores/training'

/** The x axis of the live charts: epochs from 0, fractional inside an epoch. */
export function epochAxis(): NonNullable<ChartOptions<'line'>['scales']>[string] {
  return {
    type: 'linear',
    min: 0,
    title: { display: true, text: 'Epoch (passes over the training images)', color: PALETTE.text },
    ticks: { color: PALETTE.text, maxTicksLimit: 11 },
    grid: { color: PALETTE.grid }
  }
}

/** Says how the faint batch curve was sampled: the engine reports about ten batches a second. */
export function sampledBatchesText(trained: number, sampled: number): string {
  const base = 'Blue: training. Faint: single batches'
  const smooth = 'bold: their moving average.'
  if (trained <= 0 || sampled <= 0) return `${base}, sampled about ten times a second; ${smooth}`
  if (sampled >= trained) return `${base}, every one shown; ${smooth}`
  const every = Math.max(1, Math.round(trained / sampled))
  return (
    `${base}, sampled about ten times a second (${formatInt(sampled)} of ` +
    `${formatInt(trained)} shown, about 1 in ${formatInt(every)}); ${smooth}`
  )
}

/** Says where the validation points come from. */
export function validationText(points: readonly ValidationPoint[]): string {
  const full = 'Orange: validation (images held out from training), at each epoch’s end'
  return points.some((p) => p.sample)
    ? `${full} and, on a sample, within it.`
    : `${full}.`
}
