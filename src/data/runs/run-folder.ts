import { appendFile, cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runRecordSchema, type EpochMetrics, type RunRecord } from '../../shared/contract/types'
import { WorkbenchError } from '../../shared/contract/errors'
import { parseModelFile, serializeModel } from '../../shared/model/model-file'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'
import { FILTERS_DIR } from '../../shared/inspect/filter-snapshots'
import { writeFileAtomic } from '../atomic-write'

// The one module that knows a run folder's layout; everything else reads and writes through it:
//   run.json         the run's record (spec, hyperparameters, dataset, status)
//   metrics.jsonl    one line per finished epoch, append-only
//   model/           the latest checkpoint: model.json (spec, epoch, tfjs weights manifest),
//                    weights.bin and optimizer.bin; replaced by a swap of folders each epoch
//   filters/         the filter history (filter-snapshots.ts)
//   evaluation.json  the test-split evaluation of the checkpoint

export const RUN_FILE = 'run.json'
export const METRICS_FILE = 'metrics.jsonl'
/** Folder of a run that holds its latest checkpoint. */
export const MODEL_DIR = 'model'
export const CHECKPOINT_FILE = 'model.json'
export const WEIGHTS_FILE = 'weights.bin'
export const OPTIMIZER_FILE = 'optimizer.bin'
export const EVALUATION_FILE = 'evaluation.json'
export { FILTERS_DIR }
/** The next checkpoint while it is written, and the previous one while the two are swapped. */
const NEXT_MODEL_DIR = `${MODEL_DIR}.next`
const OLD_MODEL_DIR = `${MODEL_DIR}.old`
const CHECKPOINT_FORMAT = 'cnn-workbench.checkpoint/1'

/** An IO failure as a typed error whose message says what to do. */
export function ioError(what: string, err: unknown): WorkbenchError {
  const code = (err as NodeJS.ErrnoException)?.code
  const hint =
    code === 'ENOSPC'
      ? 'The disk is full: free some space and try again.'
      : code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
        ? 'The folder is read-only: choose a writable data folder.'
        : 'Check that the data folder exists and is writable.'
  return new WorkbenchError('IO_ERROR', `${what}: ${code ?? String(err)}. ${hint}`)
}

// ---- run.json ----

/** The path of a run's record, for messages. */
export function runRecordPath(runDir: string): string {
  return join(runDir, RUN_FILE)
}

/** Reads run.json: null when the folder has none, IO_ERROR when it is damaged. */
export async function readRunRecord(runDir: string): Promise<RunRecord | null> {
  let text: string
  try {
    text = await readFile(runRecordPath(runDir), 'utf8')
  } catch {
    return null
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const parsed = runRecordSchema.safeParse(json)
  if (!parsed.success) throw new WorkbenchError('IO_ERROR', `The run file ${runRecordPath(runDir)} is damaged.`)
  return parsed.data
}

/** Writes run.json whole or not at all. */
export async function writeRunRecord(runDir: string, record: RunRecord): Promise<void> {
  await writeFileAtomic(runRecordPath(runDir), JSON.stringify(record, null, 2))
}

// ---- metrics.jsonl ----

/** Appends one epoch's metrics as one JSON line. */
export async function appendMetrics(runDir: string, metrics: EpochMetrics): Promise<void> {
  await appendFile(join(runDir, METRICS_FILE), JSON.stringify(metrics) + '\n')
}

/** Replaces metrics.jsonl with these epochs, whole or not at all. */
export async function writeMetrics(runDir: string, metrics: readonly EpochMetrics[]): Promise<void> {
  await writeFileAtomic(join(runDir, METRICS_FILE), metrics.map((m) => JSON.stringify(m) + '\n').join(''))
}

/** Every complete line of metrics.jsonl; none when the file is missing. */
export async function readMetrics(runDir: string): Promise<EpochMetrics[]> {
  let text: string
  try {
    text = await readFile(join(runDir, METRICS_FILE), 'utf8')
  } catch {
    return []
  }
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
}

// ---- evaluation.json ----

/** The stored evaluation as JSON, or undefined when there is none or it is unreadable. */
export async function readEvaluationJson(runDir: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(runDir, EVALUATION_FILE), 'utf8')) as unknown
  } catch {
    return undefined
  }
}

export async function writeEvaluation(runDir: string, evaluation: unknown): Promise<void> {
  await writeFileAtomic(join(runDir, EVALUATION_FILE), JSON.stringify(evaluation))
}

// ---- model/: the checkpoint ----

/** A checkpoint read from disk: the model's spec, the epoch it was saved after, its weights. */
export interface Checkpoint {
  spec: ModelSpec
  epoch: number
  weights: WeightTensor[]
  /** The optimizer's state after that epoch (step count, moments); empty in older checkpoints. */
  optimizer: WeightTensor[]
}

type ManifestGroup = { paths: string[]; weights: Array<{ name: string; shape: number[]; dtype?: string }> }

interface ManifestFile {
  format?: string
  epoch?: number
  spec?: unknown
  weightsManifest?: ManifestGroup[]
  /** Same form as weightsManifest, in optimizer.bin; tfjs model loaders ignore it. */
  optimizerManifest?: ManifestGroup[]
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false
  )

/**
 * The folder holding a run's latest complete checkpoint. The swap in writeCheckpoint renames
 * model/ to model.old/ and then model.next/ to model/; a process killed between the two leaves
 * only model.old/, which is then the latest checkpoint. Reading never renames (the engine reads
 * while main writes); the next write or resume puts model.old/ back.
 */
export async function checkpointDir(runDir: string): Promise<string> {
  const current = join(runDir, MODEL_DIR)
  if (await exists(join(current, CHECKPOINT_FILE))) return current
  const old = join(runDir, OLD_MODEL_DIR)
  if (await exists(join(old, CHECKPOINT_FILE))) return old
  return current
}

/** Moves model.old/ back to model/ when a swap was cut between its renames. Writers call it. */
export async function recoverCheckpoint(runDir: string): Promise<void> {
  const current = join(runDir, MODEL_DIR)
  const old = join(runDir, OLD_MODEL_DIR)
  if (!(await exists(join(current, CHECKPOINT_FILE))) && (await exists(join(old, CHECKPOINT_FILE)))) {
    await rm(current, { recursive: true, force: true })
    await rename(old, current)
  }
}

/** The modification time of the latest checkpoint's model.json, or -1 when there is none. */
export async function checkpointMtimeMs(runDir: string): Promise<number> {
  return stat(join(await checkpointDir(runDir), CHECKPOINT_FILE))
    .then((s) => s.mtimeMs)
    .catch(() => -1)
}

/** The epoch of a run's checkpoint, or null when it has none (or an unreadable one). */
export async function readCheckpointEpoch(runDir: string): Promise<number | null> {
  try {
    const text = await readFile(join(await checkpointDir(runDir), CHECKPOINT_FILE), 'utf8')
    const epoch = (JSON.parse(text) as { epoch?: unknown }).epoch
    return typeof epoch === 'number' && Number.isInteger(epoch) && epoch > 0 ? epoch : null
  } catch {
    return null
  }
}

/** Copies a run's checkpoint into another run's folder (a branch starts from it). */
export async function copyCheckpoint(fromRunDir: string, toRunDir: string): Promise<void> {
  await cp(await checkpointDir(fromRunDir), join(toRunDir, MODEL_DIR), { recursive: true })
}

const damaged = (runDir: string, why: string): WorkbenchError =>
  new WorkbenchError('IO_ERROR', `The checkpoint in ${join(runDir, MODEL_DIR)} is damaged (${why}). Train the run again.`)

/** Reads the checkpoint's model.json and its weight files into plain typed arrays. */
export async function readCheckpoint(runDir: string): Promise<Checkpoint> {
  const dir = await checkpointDir(runDir)
  let text: string
  try {
    text = await readFile(join(dir, CHECKPOINT_FILE), 'utf8')
  } catch {
    throw new WorkbenchError(
      'NOT_FOUND',
      'This run has no saved model yet: one is saved after each finished epoch, and the run ' +
        'ended before its first. Train it for at least one epoch.'
    )
  }
  let manifest: ManifestFile
  try {
    manifest = JSON.parse(text) as ManifestFile
  } catch {
    throw damaged(runDir, `${CHECKPOINT_FILE} is not valid JSON`)
  }
  const spec = parseModelFile(manifest.spec)
  const weights = await readGroups(runDir, dir, manifest.weightsManifest ?? [], WEIGHTS_FILE)
  const optimizer = await readGroups(runDir, dir, manifest.optimizerManifest ?? [], OPTIMIZER_FILE)
  return { spec, epoch: manifest.epoch ?? 0, weights, optimizer }
}

async function readGroups(runDir: string, dir: string, groups: ManifestGroup[], fallback: string): Promise<WeightTensor[]> {
  const weights: WeightTensor[] = []
  for (const group of groups) {
    const bytes = await readFile(join(dir, group.paths[0] ?? fallback)).catch(() => {
      throw damaged(runDir, `${group.paths[0]} is missing`)
    })
    let offset = 0
    for (const w of group.weights) {
      if (w.dtype !== undefined && w.dtype !== 'float32') throw damaged(runDir, `${w.name} is ${w.dtype}`)
      const size = w.shape.reduce((a, b) => a * b, 1)
      if (offset + size * 4 > bytes.byteLength) throw damaged(runDir, `${group.paths[0] ?? fallback} is too short`)
      // Copy out: a Buffer's offset into its pool need not be a multiple of 4.
      const data = new Float32Array(size)
      new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + size * 4))
      weights.push({ name: w.name, shape: w.shape, data })
      offset += size * 4
    }
  }
  return weights
}

/**
 * Saves the model (spec + weights) as a new folder, then swaps it in by rename, so a crash
 * leaves either the previous checkpoint or the new one, never half of one: killed before the
 * first rename, model/ is the previous one; between the renames, model.old/ is (checkpointDir
 * reads it, recoverCheckpoint puts it back); after the second, model/ is the new one.
 */
export async function writeCheckpoint(
  runDir: string,
  spec: ModelSpec,
  weights: WeightTensor[],
  epoch: number,
  /** The optimizer's state, kept in optimizer.bin so a resumed run steps on as before. */
  optimizer: WeightTensor[] = []
): Promise<void> {
  const next = join(runDir, NEXT_MODEL_DIR)
  const final = join(runDir, MODEL_DIR)
  const old = join(runDir, OLD_MODEL_DIR)
  try {
    // A swap cut short last time left the only checkpoint in model.old/: keep it, not delete it.
    await recoverCheckpoint(runDir)
    await rm(next, { recursive: true, force: true })
    await mkdir(next, { recursive: true })
    const packed = packTensors(weights)
    await writeFileAtomic(join(next, WEIGHTS_FILE), packed.bin)
    const state = packTensors(optimizer)
    if (optimizer.length > 0) await writeFileAtomic(join(next, OPTIMIZER_FILE), state.bin)
    // model.json last: a model.next/ with it is complete.
    await writeFileAtomic(
      join(next, CHECKPOINT_FILE),
      JSON.stringify(
        {
          format: CHECKPOINT_FORMAT,
          epoch,
          spec: JSON.parse(serializeModel(spec)),
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: packed.manifest }],
          ...(optimizer.length > 0 ? { optimizerManifest: [{ paths: [OPTIMIZER_FILE], weights: state.manifest }] } : {})
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
    throw err
  }
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
