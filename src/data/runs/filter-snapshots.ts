import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { WeightTensor } from '../../shared/engine-protocol'
import {
  FILTERS_DIR,
  FILTERS_INDEX,
  filterIndexSchema,
  pickFilterTensors,
  MAX_SNAPSHOT_UNITS,
  snapshotFile,
  type FilterIndex
} from '../../shared/inspect/filter-snapshots'
import { writeFileAtomic } from '../atomic-write'

/**
 * Writes `<runDir>/filters/epoch-<N>.bin` (the conv kernels, or the first dense kernel) and then
 * adds the epoch to `filters/index.json`; both atomically, the index last, so it never names a
 * snapshot that is not fully on disk.
 */
export async function writeFilterSnapshot(runDir: string, epoch: number, weights: readonly WeightTensor[]): Promise<void> {
  // A dense kernel [in, units] keeps only its first MAX_SNAPSHOT_UNITS columns: the drawn templates.
  const picked = pickFilterTensors(weights).map((w) => (w.shape.length === 2 ? firstColumns(w, MAX_SNAPSHOT_UNITS) : w))
  if (picked.length === 0) return
  const dir = join(runDir, FILTERS_DIR)
  await mkdir(dir, { recursive: true })
  const tensors = picked.map((w) => ({ name: w.name, shape: [...w.shape] }))
  const bytes = new Uint8Array(picked.reduce((n, w) => n + w.data.byteLength, 0))
  let offset = 0
  for (const w of picked) {
    bytes.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), offset)
    offset += w.data.byteLength
  }
  await writeFileAtomic(join(dir, snapshotFile(epoch)), bytes)
  const previous = await readFile(join(dir, FILTERS_INDEX), 'utf8')
    .then((t) => filterIndexSchema.safeParse(JSON.parse(t)))
    .catch(() => null)
  // The tensors cannot change within a run; a different list means a damaged index: start over.
  const same = previous?.success && JSON.stringify(previous.data.tensors) === JSON.stringify(tensors)
  const epochs = new Set(same && previous?.success ? previous.data.epochs : [])
  epochs.add(epoch)
  const index: FilterIndex = {
    format: 'cnn-workbench.filters/1',
    tensors,
    epochs: [...epochs].sort((a, b) => a - b)
  }
  await writeFileAtomic(join(dir, FILTERS_INDEX), JSON.stringify(index))
}

/** The first `n` columns of a [rows, cols] tensor. */
function firstColumns(w: WeightTensor, n: number): WeightTensor {
  const [rows, cols] = w.shape
  if (cols <= n) return w
  const data = new Float32Array(rows * n)
  for (let r = 0; r < rows; r++) data.set(w.data.subarray(r * cols, r * cols + n), r * n)
  return { name: w.name, shape: [rows, n], data }
}
