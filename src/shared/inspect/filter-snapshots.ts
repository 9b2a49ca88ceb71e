import { z } from 'zod'

/** Folder of a run that keeps a copy of its filters after every epoch. */
export const FILTERS_DIR = 'filters'
/** The index of that folder: which tensors each snapshot holds and which epochs exist. */
export const FILTERS_INDEX = 'index.json'
/** Units of a dense kernel kept per epoch: those the view draws as templates (64 × 784 floats). */
export const MAX_SNAPSHOT_UNITS = 64
/** File of one epoch's snapshot: the tensors' float32 values, one after another. */
export const snapshotFile = (epoch: number): string => `epoch-${epoch}.bin`

export const filterIndexSchema = z.object({
  format: z.literal('cnn-workbench.filters/1'),
  tensors: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) })),
  epochs: z.array(z.number().int().min(0))
})
export type FilterIndex = z.infer<typeof filterIndexSchema>

/**
 * Which weights a snapshot keeps: every conv kernel (rank 4, tiny), or, for a model without
 * convolutions, the first dense kernel (rank 2), whose units are drawn as image templates.
 */
export function pickFilterTensors<T extends { shape: number[] }>(weights: readonly T[]): T[] {
  const conv = weights.filter((w) => w.shape.length === 4)
  if (conv.length > 0) return conv
  const dense = weights.find((w) => w.shape.length === 2)
  return dense ? [dense] : []
}
