import { describe, expect, it } from 'vitest'
import { MIN_BATCHES_FOR_VAL_CHECKS, midEpochCheckBatches, VAL_CHECKS_PER_EPOCH } from './trainer'

describe('mid-epoch validation checks', () => {
  it('checks a long epoch at its quarters (the end is checked by the epoch itself)', () => {
    expect([...midEpochCheckBatches(3375)]).toEqual([844, 1688, 2531])
    expect(midEpochCheckBatches(MIN_BATCHES_FOR_VAL_CHECKS).size).toBe(VAL_CHECKS_PER_EPOCH - 1)
  })

  it('leaves short epochs as they were: one check, at the end', () => {
    expect(midEpochCheckBatches(113).size).toBe(0)
    expect(midEpochCheckBatches(MIN_BATCHES_FOR_VAL_CHECKS - 1).size).toBe(0)
  })
})
