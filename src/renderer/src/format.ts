const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** 106154 -> "106,154". */
export function formatInt(n: number): string {
  return integer.format(n)
}

/** 0.97123 -> "97.12 %". */
export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)} %`
}

/** 1, 'epoch' -> "1 epoch"; 3, 'epoch' -> "3 epochs" (irregular plurals passed in). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatInt(n)} ${n === 1 ? one : many}`
}

/** Loss values: four significant digits, enough to see a trend. */
export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss)
  return loss >= 1000 ? formatInt(loss) : loss.toPrecision(4)
}

/** 65_000 -> "1:05", 3_725_000 -> "1:02:05". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  const total = Math.round(ms / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const ss = String(s).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** [6, 28, 28] -> "6 × 28 × 28". */
export function formatShape(shape: readonly number[]): string {
  return shape.join(' × ')
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 })

/** 2_457_600 -> "2.46M"; small counts stay exact. */
export function formatCompact(n: number): string {
  return n < 10_000 ? formatInt(n) : compact.format(n)
}

const BYTE_UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']

/** 12_345_678 -> "11.8 MiB". */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${formatInt(value)} bytes`
  return `${value.toFixed(value < 10 ? 2 : 1)} ${BYTE_UNITS[unit]}`
}
