/** Bars never start above this: a zoomed scale still shows most of the range below 100 %. */
const MAX_ZOOM_FLOOR = 0.9
/** Below this, differences are plain on the full scale: no zoom. */
const ZOOM_FROM = 0.5

/**
 * Where a scale of accuracies should start so close values look different: a step of 5 % below
 * the lowest value, at most 90 %, and 0 (no zoom) when any value is under 50 %. 92 % and 99.7 % on 0-100 % look alike;
 * on 90-100 % they do not.
 */
export function zoomedFloor(values: ReadonlyArray<number | null>): number {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v))
  if (present.length === 0) return 0
  const lowest = Math.min(...present)
  if (lowest < ZOOM_FROM) return 0
  const floor = Math.floor((lowest - 0.01) * 20) / 20
  return Math.max(0, Math.min(MAX_ZOOM_FLOOR, floor))
}

/** A value's width in percent on a scale from `floor` to 1. */
export function barWidth(value: number | null, floor: number): number {
  if (value === null || !Number.isFinite(value)) return 0
  const span = 1 - floor
  return span <= 0 ? 100 : Math.max(0, Math.min(100, ((value - floor) / span) * 100))
}
