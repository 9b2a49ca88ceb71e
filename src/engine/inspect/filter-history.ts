import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import type { WeightTensor } from '../../shared/engine-protocol'
import {
  FILTERS_DIR,
  FILTERS_INDEX,
  filterIndexSchema,
  snapshotFile,
  type FilterIndex
} from '../../shared/inspect/filter-snapshots'

/** The run's filter snapshot index, or null for a run trained before snapshots were kept. */
export async function readFilterIndex(runDir: string): Promise<FilterIndex | null> {
  try {
    const parsed = filterIndexSchema.safeParse(JSON.parse(await readFile(join(runDir, FILTERS_DIR, FILTERS_INDEX), 'utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/** The run's weights with the snapshotted tensors of `epoch` swapped in (matched by name). */
export async function weightsAtEpoch(runDir: string, index: FilterIndex, epoch: number, weights: readonly WeightTensor[]): Promise<WeightTensor[]> {
  if (!index.epochs.includes(epoch)) {
    throw new WorkbenchError(
      'NOT_FOUND',
      `This run kept no filters for epoch ${epoch}; it has ${index.epochs.length ? `epochs ${index.epochs.join(', ')}` : 'none'}. Pick one of those.`
    )
  }
  let bytes: Buffer
  try {
    bytes = await readFile(join(runDir, FILTERS_DIR, snapshotFile(epoch)))
  } catch {
    throw new WorkbenchError('IO_ERROR', `The filters of epoch ${epoch} are missing from ${join(runDir, FILTERS_DIR)}. Train the run again to keep them.`)
  }
  const byName = new Map<string, WeightTensor>()
  let offset = 0
  for (const t of index.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    if (offset + n * 4 > bytes.byteLength) {
      throw new WorkbenchError('IO_ERROR', `The filters of epoch ${epoch} are cut short. Train the run again to keep them.`)
    }
    const data = new Float32Array(n)
    new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + n * 4))
    byName.set(t.name, { name: t.name, shape: t.shape, data })
    offset += n * 4
  }
  return weights.map((w) => {
    const s = byName.get(w.name)
    if (!s) return w
    if (s.shape.join() === w.shape.join()) return s
    // A dense kernel kept in part (its first columns): those columns over the latest weights.
    if (s.shape.length === 2 && w.shape.length === 2 && s.shape[0] === w.shape[0] && s.shape[1] < w.shape[1]) {
      const [rows, cols] = w.shape
      const n = s.shape[1]
      const data = Float32Array.from(w.data)
      for (let r = 0; r < rows; r++) data.set(s.data.subarray(r * n, (r + 1) * n), r * cols)
      return { name: w.name, shape: w.shape, data }
    }
    return w
  })
}
