import type { BuiltModel } from '../model'
import { modelFromCheckpoint } from '../checkpoint'
import { checkpointMtimeMs, readCheckpoint } from '../../data/runs/run-folder'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'

/** A run's checkpoint read from disk, built into a model on the engine's backend. */
export interface LoadedRun {
  runDir: string
  spec: ModelSpec
  epoch: number
  weights: WeightTensor[]
  model: BuiltModel
  /** model.json's modification time, to notice a newer checkpoint. */
  mtimeMs: number
}

/** Loads a run's checkpoint into a freshly built model (weights assigned by position). */
export async function loadRun(runDir: string): Promise<LoadedRun> {
  const ckpt = await readCheckpoint(runDir)
  const mtimeMs = await checkpointMtimeMs(runDir)
  return { runDir, ...ckpt, model: modelFromCheckpoint(ckpt), mtimeMs }
}

/** Keeps the last few loaded runs, reloading one whose checkpoint changed on disk. */
export class RunCache {
  private readonly entries = new Map<string, LoadedRun>()
  constructor(private readonly capacity = 2) {}

  async get(runDir: string): Promise<LoadedRun> {
    const hit = this.entries.get(runDir)
    if (hit) {
      const mtime = await checkpointMtimeMs(runDir)
      if (mtime === hit.mtimeMs) {
        this.entries.delete(runDir)
        this.entries.set(runDir, hit)
        return hit
      }
      hit.model.dispose()
      this.entries.delete(runDir)
    }
    const run = await loadRun(runDir)
    this.entries.set(runDir, run)
    while (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, LoadedRun]
      entry.model.dispose()
      this.entries.delete(oldest)
    }
    return run
  }
}
