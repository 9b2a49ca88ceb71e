import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import type { EpochMetrics, RunRecord } from '../../shared/contract/types'
import { WorkbenchError } from '../../shared/contract/errors'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'
import { writeFilterSnapshot } from './filter-snapshots'
import {
  appendMetrics,
  ioError,
  readMetrics,
  readRunRecord,
  runRecordPath,
  writeCheckpoint,
  writeMetrics,
  writeRunRecord
} from './run-folder'

const TRASH_DIR = '.trash'
/** How long a deleted run can be restored; older ones are removed at the next delete. */
export const TRASH_KEEP_MS = 7 * 24 * 60 * 60 * 1000

/** The run folders under one root, by id: create, list, trash and restore; run-folder.ts knows each folder's files. */
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
    try {
      await mkdir(dir, { recursive: true })
      await writeRunRecord(dir, record)
    } catch (err) {
      throw ioError(`Cannot create the run folder ${dir}`, err)
    }
  }

  async read(id: string): Promise<RunRecord> {
    const record = await readRunRecord(this.dir(id))
    if (!record) throw new WorkbenchError('NOT_FOUND', `No run ${id} in ${this.root}.`)
    return record
  }

  async update(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    const next = { ...(await this.read(id)), ...patch }
    try {
      await writeRunRecord(this.dir(id), next)
    } catch (err) {
      throw ioError(`Cannot update ${runRecordPath(this.dir(id))}`, err)
    }
    return next
  }

  /** Appends one epoch's metrics as one JSON line. */
  async appendMetrics(id: string, metrics: EpochMetrics): Promise<void> {
    try {
      await appendMetrics(this.dir(id), metrics)
    } catch (err) {
      throw ioError(`Cannot write the metrics of run ${id}`, err)
    }
  }

  /** Keeps only epochs up to `epoch` in metrics.jsonl (a resumed run redoes the later ones). */
  async truncateMetrics(id: string, epoch: number): Promise<void> {
    const kept = (await this.readMetrics(id)).filter((m) => m.epoch <= epoch)
    try {
      await writeMetrics(this.dir(id), kept)
    } catch (err) {
      throw ioError(`Cannot write the metrics of run ${id}`, err)
    }
  }

  async readMetrics(id: string): Promise<EpochMetrics[]> {
    return readMetrics(this.dir(id))
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
    try {
      await writeCheckpoint(this.dir(id), spec, weights, epoch, optimizer)
    } catch (err) {
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
