import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { z } from 'zod'
import { WorkbenchError, describeIssues } from '../../shared/contract/errors'
import { preprocessingSchema, type RunRecord } from '../../shared/contract/types'
import { hyperSchema } from '../../shared/hyper'
import { parseModelFile, serializeModel } from '../../shared/model/model-file'
import { summarizeModel } from '../../shared/model/shape-inference'
import type { ModelSpec } from '../../shared/model/spec'
import { MAX_DIMENSION } from '../../shared/model/spec'
import { expectedWeightShapes } from '../../shared/model/weight-shapes'
import type { WeightTensor } from '../../shared/engine-protocol'
import { writeFileAtomic } from '../../data/atomic-write'
import { RunStore } from '../../data/runs/run-store'
import { CHECKPOINT_FILE, WEIGHTS_FILE, checkpointDir } from '../../data/runs/run-folder'

/** Format tag of an exported trained model (model.json next to weights.bin). */
export const TRAINED_FORMAT = 'cnn-workbench.trained/1'
export const TRAINED_MODEL_FILE = 'model.json'
export const TRAINED_WEIGHTS_FILE = 'weights.bin'
/** Largest model.json read, so a huge file cannot exhaust memory before it is checked. */
export const MAX_TRAINED_JSON_BYTES = 4_000_000
/** Largest weights.bin accepted (64 M float32 values, far beyond any model the app trains). */
export const MAX_TRAINED_WEIGHTS_BYTES = 256 * 1024 * 1024
const BYTES_PER_FLOAT32 = 4

const manifestEntrySchema = z.object({
  name: z.string().min(1).max(500),
  shape: z.array(z.number().int().min(0).max(MAX_DIMENSION)).max(8),
  dtype: z.literal('float32')
})

const trainedFileSchema = z.object({
  format: z.literal(TRAINED_FORMAT),
  spec: z.unknown(),
  dataset: z.string().min(1).max(1000),
  classes: z.array(z.string().max(200)).max(100_000),
  preprocessing: preprocessingSchema.optional(),
  epochsDone: z.number().int().min(0).max(1_000_000).optional(),
  hyper: z.unknown().optional(),
  name: z.string().max(200).optional(),
  weightsManifest: z
    .array(
      z.object({
        paths: z.tuple([z.literal(TRAINED_WEIGHTS_FILE)]),
        weights: z.array(manifestEntrySchema).max(2000)
      })
    )
    .length(1)
})

/** A trained model read and checked from model.json + weights.bin. */
export interface TrainedModel {
  spec: ModelSpec
  dataset: string
  classes: string[]
  preprocessing?: RunRecord['preprocessing']
  epochsDone: number
  hyper: RunRecord['hyper']
  name?: string
  weights: WeightTensor[]
}

/** What a run's export is made of, as file name and bytes. */
export interface TrainedFiles {
  modelJson: string
  weightsBin: Uint8Array
}

const bad = (file: string, field: string, why: string): WorkbenchError =>
  new WorkbenchError('INVALID_MODEL', `${file}: ${field ? `${field}: ` : ''}${why}`, { file, field })

/**
 * Builds the export of a run's last checkpoint: model.json (spec, preprocessing, classes and
 * the standard tfjs weightsManifest) and weights.bin, byte for byte the checkpoint's weights.
 */
export async function buildTrainedFiles(store: RunStore, runId: string, classes: string[]): Promise<TrainedFiles> {
  const record = await store.read(runId)
  const dir = await checkpointDir(store.dir(runId))
  const ckptJson = join(dir, CHECKPOINT_FILE)
  let text: string
  try {
    text = await readFile(ckptJson, 'utf8')
  } catch {
    throw new WorkbenchError(
      'NOT_FOUND',
      `Run ${runId} has no saved model yet: one is saved after each finished epoch. Train it for at least one epoch.`
    )
  }
  let ckpt: { epoch?: unknown; spec?: unknown; weightsManifest?: unknown }
  try {
    ckpt = JSON.parse(text) as typeof ckpt
  } catch {
    throw bad(ckptJson, '', 'not valid JSON; the checkpoint is damaged. Train the run again.')
  }
  const weightsBin = await readCapped(join(dir, WEIGHTS_FILE), MAX_TRAINED_WEIGHTS_BYTES)
  const spec = parseModelFile(ckpt.spec)
  const epochsDone = typeof ckpt.epoch === 'number' ? ckpt.epoch : record.epochsDone
  const body = {
    format: TRAINED_FORMAT,
    name: record.name ?? spec.name,
    dataset: record.dataset,
    classes,
    ...(record.preprocessing ? { preprocessing: record.preprocessing } : {}),
    epochsDone,
    hyper: record.hyper,
    spec: JSON.parse(serializeModel(spec)) as unknown,
    weightsManifest: ckpt.weightsManifest
  }
  const modelJson = JSON.stringify(body, null, 2)
  // The export is checked as an import would check it, so a damaged checkpoint never leaves.
  parseTrainedFiles(modelJson, weightsBin, ckptJson)
  return { modelJson, weightsBin }
}

/** Writes a run's export as `outDir/model.json` + `weights.bin`, all or nothing. */
export async function exportTrainedModel(
  store: RunStore,
  runId: string,
  outDir: string,
  classes: string[]
): Promise<{ dir: string; files: string[] }> {
  const files = await buildTrainedFiles(store, runId, classes)
  const written = await writeFolder(outDir, [
    { name: TRAINED_MODEL_FILE, data: files.modelJson },
    { name: TRAINED_WEIGHTS_FILE, data: files.weightsBin }
  ])
  return { dir: outDir, files: written }
}

/** Writes files into a new folder, all or nothing (a hidden sibling renamed into place). */
export async function writeFolder(outDir: string, files: ReadonlyArray<{ name: string; data: string | Uint8Array }>): Promise<string[]> {
  const existing = await readdir(outDir).catch(() => null)
  if (existing && existing.length > 0) {
    throw new WorkbenchError('BAD_REQUEST', `${outDir} exists and is not empty: choose a new folder for the export.`)
  }
  const tmp = join(dirname(outDir), `.${basename(outDir)}.${process.pid}.${Date.now()}.tmp`)
  try {
    await mkdir(tmp, { recursive: true })
    for (const f of files) await writeFileAtomic(join(tmp, f.name), f.data)
    if (existing) await rm(outDir, { recursive: true, force: true })
    await rename(tmp, outDir)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined)
    if (err instanceof WorkbenchError) throw err
    const code = (err as NodeJS.ErrnoException)?.code ?? String(err)
    throw new WorkbenchError('IO_ERROR', `Cannot write the export to ${outDir}: ${code}. Choose a writable folder.`)
  }
  return files.map((f) => f.name)
}

/**
 * Checks an exported model.json and its weights.bin: the format tag, the spec, every manifest
 * entry's shape against the spec's weights in order, and the exact length of weights.bin.
 */
export function parseTrainedFiles(modelJson: string, weightsBin: Uint8Array, source = TRAINED_MODEL_FILE): TrainedModel {
  let raw: unknown
  try {
    raw = JSON.parse(modelJson)
  } catch {
    throw bad(source, '', 'not valid JSON. Choose the model.json written by "Export model".')
  }
  const tag = (raw as { format?: unknown } | null)?.format
  if (tag !== TRAINED_FORMAT) {
    throw bad(source, 'format', `expected "${TRAINED_FORMAT}", found ${JSON.stringify(tag ?? null)}. Choose a model exported by CNN Workbench.`)
  }
  const parsed = trainedFileSchema.safeParse(raw)
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.map(String).join('.') ?? ''
    throw bad(source, field, describeIssues(parsed.error))
  }
  const file = parsed.data
  let spec: ModelSpec
  try {
    spec = parseModelFile(file.spec)
  } catch (err) {
    throw bad(source, 'spec', err instanceof Error ? err.message : String(err))
  }
  const slots = expectedWeightShapes(spec)
  if (!slots) throw bad(source, 'spec', 'the layer shapes do not fit together; the model cannot be built.')
  const entries = file.weightsManifest[0].weights
  if (entries.length !== slots.length) {
    throw bad(source, 'weightsManifest.0.weights', `lists ${entries.length} tensors but the model needs ${slots.length}.`)
  }
  let bytes = 0
  entries.forEach((e, i) => {
    const want = slots[i].shape
    if (e.shape.length !== want.length || e.shape.some((d, k) => d !== want[k])) {
      throw bad(
        source,
        `weightsManifest.0.weights.${i}.shape`,
        `${e.name} is [${e.shape.join(', ')}] but layer ${slots[i].layer + 1}'s ${slots[i].part} needs [${want.join(', ')}].`
      )
    }
    bytes += want.reduce((a, b) => a * b, 1) * BYTES_PER_FLOAT32
  })
  if (bytes > MAX_TRAINED_WEIGHTS_BYTES) {
    throw bad(source, 'weightsManifest', `the weights need ${bytes} bytes, more than the ${MAX_TRAINED_WEIGHTS_BYTES} accepted.`)
  }
  if (weightsBin.byteLength !== bytes) {
    throw bad(
      TRAINED_WEIGHTS_FILE,
      'length',
      `${weightsBin.byteLength} bytes but model.json's manifest needs ${bytes}; the file is ${weightsBin.byteLength < bytes ? 'truncated' : 'too long'}. Export the model again.`
    )
  }
  let offset = 0
  const weights = entries.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1)
    // Copy out: a Buffer's offset into its pool need not be a multiple of 4.
    const data = new Float32Array(size)
    new Uint8Array(data.buffer).set(weightsBin.subarray(offset, offset + size * BYTES_PER_FLOAT32))
    offset += size * BYTES_PER_FLOAT32
    return { name: e.name, shape: e.shape, data }
  })
  const hyper = hyperSchema.safeParse(file.hyper ?? {})
  return {
    spec,
    dataset: file.dataset,
    classes: file.classes,
    ...(file.preprocessing ? { preprocessing: file.preprocessing } : {}),
    epochsDone: file.epochsDone ?? 0,
    hyper: hyper.success ? hyper.data : hyperSchema.parse({}),
    ...(file.name ? { name: file.name } : {}),
    weights
  }
}

/** Reads `dir/model.json` + `dir/weights.bin` and adds them as a new completed run. */
export async function importTrainedModel(store: RunStore, dir: string): Promise<RunRecord> {
  const jsonPath = join(dir, TRAINED_MODEL_FILE)
  const modelJson = (await readCapped(jsonPath, MAX_TRAINED_JSON_BYTES)).toString('utf8')
  const weightsBin = await readCapped(join(dir, WEIGHTS_FILE), MAX_TRAINED_WEIGHTS_BYTES)
  return addImportedRun(store, parseTrainedFiles(modelJson, weightsBin, jsonPath))
}

/** The same import from files sent by the renderer (names and base64 contents). */
export async function importTrainedFiles(
  store: RunStore,
  files: ReadonlyArray<{ name: string; base64: string }>
): Promise<RunRecord> {
  const find = (name: string): Buffer => {
    const f = files.find((x) => basename(x.name) === name)
    if (!f) throw new WorkbenchError('NOT_FOUND', `${name} is missing: choose both model.json and weights.bin.`, { file: name })
    return Buffer.from(f.base64, 'base64')
  }
  const json = find(TRAINED_MODEL_FILE)
  if (json.byteLength > MAX_TRAINED_JSON_BYTES) throw bad(TRAINED_MODEL_FILE, '', `larger than ${MAX_TRAINED_JSON_BYTES} bytes.`)
  return addImportedRun(store, parseTrainedFiles(json.toString('utf8'), find(TRAINED_WEIGHTS_FILE)))
}

/**
 * Writes the run (run.json and a checkpoint) in a hidden staging folder, then renames it into
 * place, so a failure leaves no half-imported run in the list.
 */
async function addImportedRun(store: RunStore, model: TrainedModel): Promise<RunRecord> {
  const id = store.newId()
  const record: RunRecord = {
    id,
    createdAt: new Date().toISOString(),
    status: 'completed',
    spec: model.spec,
    dataset: model.dataset,
    hyper: model.hyper,
    backend: null,
    params: summarizeModel(model.spec).trainableParams,
    epochsDone: model.epochsDone,
    test: null,
    error: null,
    ...(model.preprocessing ? { preprocessing: model.preprocessing } : {}),
    name: `${model.name ?? model.spec.name} (imported)`.slice(0, 200)
  }
  await installImportedRun(store, id, async (staging) => {
    await staging.create(record)
    await staging.writeCheckpoint(id, model.spec, model.weights, model.epochsDone)
  })
  return record
}

/** Reads a file after checking its size, naming the file when it is missing or too large. */
async function readCapped(path: string, maxBytes: number): Promise<Buffer> {
  const info = await stat(path).catch(() => null)
  if (!info || !info.isFile()) {
    throw new WorkbenchError('NOT_FOUND', `${path} is missing. An export holds model.json and weights.bin side by side.`, {
      file: path
    })
  }
  if (info.size > maxBytes) throw bad(path, '', `${info.size} bytes, more than the ${maxBytes} accepted.`)
  try {
    return await readFile(path)
  } catch (err) {
    throw new WorkbenchError('IO_ERROR', `Cannot read ${path}: ${(err as NodeJS.ErrnoException)?.code ?? String(err)}.`, {
      file: path
    })
  }
}

/**
 * Builds an imported run in a staging folder beside runs/ and renames it in whole, so a failed
 * import leaves nothing half written.
 */
export async function installImportedRun(
  store: RunStore,
  id: string,
  fill: (staging: RunStore) => Promise<void>
): Promise<void> {
  const stagingRoot = join(store.root, `.import-${id}`)
  const staging = new RunStore(stagingRoot)
  try {
    await fill(staging)
    await mkdir(store.root, { recursive: true })
    await rename(staging.dir(id), store.dir(id))
  } catch (err) {
    throw err instanceof WorkbenchError
      ? err
      : new WorkbenchError('IO_ERROR', `Cannot add the imported run to ${store.root}: ${String(err)}. Check that the data folder is writable.`)
  } finally {
    await rm(stagingRoot, { recursive: true, force: true }).catch(() => undefined)
  }
}
