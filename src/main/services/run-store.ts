import { access, appendFile, mkdir, readFile, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import { constants } from 'node:fs'
import { dirname, join } from 'node:path'
import { runRecordSchema, type EpochMetrics, type RunRecord } from '../../shared/contract/types'
import { WorkbenchError } from '../../shared/contract/errors'
import { serializeModel } from '../../shared/model/model-file'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'
import { writeFileAtomic } from './atomic-write'
import { writeFilterSnapshot } from './filter-snapshots'

const RUN_FILE = 'run.json'
const METRICS_FILE = 'metrics.jsonl'
const MODEL_DIR = 'model'
const TRASH_DIR = '.trash'
/** How long a deleted run can be restored; older ones are removed at the next delete. */
export const TRASH_KEEP_MS = 7 * 24 * 60 * 60 * 1000

/** Run folders on disk: `runs/<id>/run.json`, `metrics.jsonl` and `model/`. */
export class RunStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id)
  }

  /** A new, sortable, collision-free run id. */
  newId(): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19)
    return `${stamp}_${Math.random().toString(36).slice(2, 8)}`
  }

  async create(record: RunRecord): Promise<void> {
    const dir = this.dir(record.id)
    let made = false
    try {
      await mkdir(this.root, { recursive: true })
      await mkdir(dir)
      made = true
      await writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(record, null, 2))
    } catch (err) {
      // A folder without run.json would be an empty, unlisted run: take it away again.
      if (made) await rm(dir, { recursive: true, force: true }).catch(() => undefined)
      // A read-only folder can surface as ENOENT (recursive mkdir): say what really stops us.
      const blocked = await unwritableAncestor(this.root)
      throw ioError(`Cannot create the run folder ${dir}`, blocked ?? err)
    }
  }

  async read(id: string): Promise<RunRecord> {
    let text: string
    try {
      text = await readFile(join(this.dir(id), RUN_FILE), 'utf8')
    } catch {
      throw new WorkbenchError('NOT_FOUND', `No run ${id} in ${this.root}.`)
    }
    const parsed = runRecordSchema.safeParse(JSON.parse(text))
    if (!parsed.success) throw new WorkbenchError('IO_ERROR', `The run file of ${id} is damaged.`)
    return parsed.data
  }

  async update(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    const next = { ...(await this.read(id)), ...patch }
    try {
      await writeFileAtomic(join(this.dir(id), RUN_FILE), JSON.stringify(next, null, 2))
    } catch (err) {
      throw ioError(`Cannot update ${join(this.dir(id), RUN_FILE)}`, err)
    }
    return next
  }

  /** Appends one epoch's metrics as one JSON line. */
  async appendMetrics(id: string, metrics: EpochMetrics): Promise<void> {
    try {
      await appendFile(join(this.dir(id), METRICS_FILE), JSON.stringify(metrics) + '\n')
    } catch (err) {
      throw ioError(`Cannot write the metrics of run ${id}`, err)
    }
  }

  /** Keeps only epochs up to `epoch` in metrics.jsonl (a resumed run redoes the later ones). */
  async truncateMetrics(id: string, epoch: number): Promise<void> {
    const kept = (await this.readMetrics(id)).filter((m) => m.epoch <= epoch)
    try {
      await writeFileAtomic(join(this.dir(id), METRICS_FILE), kept.map((m) => JSON.stringify(m) + '\n').join(''))
    } catch (err) {
      throw ioError(`Cannot write the metrics of run ${id}`, err)
    }
  }

  async readMetrics(id: string): Promise<EpochMetrics[]> {
    try {
      const text = await readFile(join(this.dir(id), METRICS_FILE), 'utf8')
      // A line cut by a crash mid-write is skipped; every complete line is kept.
      return text
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as EpochMetrics]
          } catch {
            return []
          }
        })
    } catch {
      return []
    }
  }

  /**
   * Saves the model (spec + weights) as a new folder, then swaps it in by rename, so a crash
   * leaves either the previous checkpoint or the new one, never half of one.
   */
  async writeCheckpoint(
    id: string,
    spec: ModelSpec,
    weights: WeightTensor[],
    epoch: number,
    /** The optimizer's state, kept in optimizer.bin so a resumed run steps on as before. */
    optimizer: WeightTensor[] = []
  ): Promise<void> {
    const dir = this.dir(id)
    const next = join(dir, `${MODEL_DIR}.next`)
    const final = join(dir, MODEL_DIR)
    const old = join(dir, `${MODEL_DIR}.old`)
    try {
      await rm(next, { recursive: true, force: true })
      await mkdir(next, { recursive: true })
      const packed = packTensors(weights)
      await writeFileAtomic(join(next, 'weights.bin'), packed.bin)
      const state = packTensors(optimizer)
      if (optimizer.length > 0) await writeFileAtomic(join(next, 'optimizer.bin'), state.bin)
      await writeFileAtomic(
        join(next, 'model.json'),
        JSON.stringify(
          {
            format: 'cnn-workbench.checkpoint/1',
            epoch,
            spec: JSON.parse(serializeModel(spec)),
            weightsManifest: [{ paths: ['weights.bin'], weights: packed.manifest }],
            ...(optimizer.length > 0 ? { optimizerManifest: [{ paths: ['optimizer.bin'], weights: state.manifest }] } : {})
          },
          null,
          2
        )
      )
      await rm(old, { recursive: true, force: true })
      await rename(final, old).catch(() => undefined)
      await rename(next, final)
      await rm(old, { recursive: true, force: true })
    } catch (err) {
      await rm(next, { recursive: true, force: true }).catch(() => undefined)
      throw ioError(`Cannot save the checkpoint of run ${id}; the previous one is kept`, err)
    }
  }

  /** Keeps this epoch's conv kernels (or first dense kernel) in `filters/`, for the filter history. */
  async writeFilterSnapshot(id: string, epoch: number, weights: readonly WeightTensor[]): Promise<void> {
    try {
      await writeFilterSnapshot(this.dir(id), epoch, weights)
    } catch (err) {
      throw ioError(`Cannot save the filters of epoch ${epoch} of run ${id}`, err)
    }
  }

  /** Where deleted runs wait, so a delete can be undone; "." keeps it apart from run ids. */
  get trashRoot(): string {
    return join(this.root, TRASH_DIR)
  }

  /** Moves a run to the trash folder (one rename, so it is all or nothing). */
  async trash(id: string): Promise<void> {
    await this.read(id)
    try {
      await mkdir(this.trashRoot, { recursive: true })
      await this.emptyOldTrash()
      await rm(join(this.trashRoot, id), { recursive: true, force: true })
      await rename(this.dir(id), join(this.trashRoot, id))
      // The folder's time says when it was deleted, for emptyOldTrash.
      const now = new Date()
      await utimes(join(this.trashRoot, id), now, now)
    } catch (err) {
      throw ioError(`Cannot delete run ${id}`, err)
    }
  }

  /** Removes runs deleted more than TRASH_KEEP_MS ago. */
  private async emptyOldTrash(): Promise<void> {
    const cutoff = Date.now() - TRASH_KEEP_MS
    for (const name of await readdir(this.trashRoot)) {
      const path = join(this.trashRoot, name)
      const info = await stat(path).catch(() => null)
      if (info && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true })
    }
  }

  /** Brings a trashed run back. */
  async restore(id: string): Promise<RunRecord> {
    try {
      await rename(join(this.trashRoot, id), this.dir(id))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code
      if (code === 'ENOENT') throw new WorkbenchError('NOT_FOUND', `Run ${id} is not in the trash; it cannot be restored.`)
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new WorkbenchError('BUSY', `A run ${id} exists already.`)
      throw ioError(`Cannot restore run ${id}`, err)
    }
    return this.read(id)
  }

  /** Every readable run, newest first; damaged folders are skipped, not fatal. */
  async list(): Promise<RunRecord[]> {
    let names: string[]
    try {
      names = await readdir(this.root)
    } catch {
      return []
    }
    const records = await Promise.all(names.map((n) => this.read(n).catch(() => null)))
    return records
      .filter((r): r is RunRecord => r !== null)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }
}

/** The error of the nearest existing folder above (or at) `path` when it cannot be written. */
async function unwritableAncestor(path: string): Promise<NodeJS.ErrnoException | null> {
  let at = path
  for (;;) {
    const found = await stat(at).then(
      () => true,
      () => false
    )
    if (found) {
      return access(at, constants.W_OK).then(
        () => null,
        (err: NodeJS.ErrnoException) => err
      )
    }
    const up = dirname(at)
    if (up === at) return null
    at = up
  }
}

function ioError(what: string, err: unknown): WorkbenchError {
  const code = (err as NodeJS.ErrnoException)?.code
  const hint =
    code === 'ENOSPC'
      ? 'The disk is full: free some space and try again.'
      : code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
        ? 'The folder is read-only: choose a writable data folder.'
        : 'Check that the data folder exists and is writable.'
  return new WorkbenchError('IO_ERROR', `${what}: ${code ?? String(err)}. ${hint}`)
}

/** Float32 tensors back to back in one buffer, with their tfjs manifest entries. */
function packTensors(tensors: WeightTensor[]): {
  bin: Uint8Array
  manifest: Array<{ name: string; shape: number[]; dtype: 'float32' }>
} {
  const bin = new Uint8Array(tensors.reduce((a, w) => a + w.data.byteLength, 0))
  let offset = 0
  for (const w of tensors) {
    bin.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), offset)
    offset += w.data.byteLength
  }
  return { bin, manifest: tensors.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' as const })) }
}
