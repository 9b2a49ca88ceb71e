import { readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { z } from 'zod'
import { WorkbenchError, describeIssues } from '../../shared/contract/errors'
import { epochMetricsSchema, preprocessingSchema, testMetricsSchema, trainedBySchema, type EpochMetrics, type RunRecord } from '../../shared/contract/types'
import { PYTORCH_RUN_FORMAT, PYTORCH_WEIGHTS_FILE } from '../../shared/export/pytorch-project'
import { decodeSafetensors } from '../../shared/export/safetensors'
import { fromTorchTensors } from '../../shared/export/torch-layout'
import { hyperSchema } from '../../shared/hyper'
import { parseModelFile } from '../../shared/model/model-file'
import { summarizeModel } from '../../shared/model/shape-inference'
import type { ModelSpec } from '../../shared/model/spec'
import { writeFileAtomic } from '../../data/atomic-write'
import { MAX_TRAINED_JSON_BYTES, MAX_TRAINED_WEIGHTS_BYTES, installImportedRun } from './model-exchange'
import { RunStore } from '../../data/runs/run-store'

const RUN_FILE = 'run.json'
const METRICS_FILE = 'metrics.jsonl'
const EVALUATION_FILE = 'evaluation.json'
/** PyTorch's own evaluation is kept beside the run; ours (evaluation.json) is computed by the engine. */
export const PYTORCH_EVALUATION_FILE = 'pytorch-evaluation.json'
const MAX_METRICS_BYTES = 16_000_000

const pytorchRunSchema = z.object({
  format: z.literal(PYTORCH_RUN_FORMAT),
  name: z.string().max(200).optional(),
  createdAt: z.string().max(100).optional(),
  status: z.enum(['completed', 'stopped']).default('completed'),
  spec: z.unknown(),
  dataset: z.string().min(1).max(1000),
  classes: z.array(z.string().max(200)).max(100_000),
  hyper: z.unknown(),
  preprocessing: preprocessingSchema.optional(),
  epochsDone: z.number().int().min(0).max(1_000_000),
  test: testMetricsSchema.nullable().optional(),
  trainedBy: trainedBySchema,
  note: z.string().max(2000).optional()
})

/** The files of a PyTorch run folder, as bytes. */
export interface PytorchRunFiles {
  runJson: Uint8Array
  weights: Uint8Array
  metrics?: Uint8Array
  evaluation?: Uint8Array
}

const bad = (file: string, message: string, details: Record<string, unknown> = {}): WorkbenchError =>
  new WorkbenchError('INVALID_MODEL', `${file}: ${message}`, { file, ...details })

/** True when the folder holds a run written by train.py (run.json with the PyTorch run format). */
export async function isPytorchRunFolder(dir: string): Promise<boolean> {
  try {
    const text = await readFile(join(dir, RUN_FILE), 'utf8')
    return (JSON.parse(text) as { format?: unknown }).format === PYTORCH_RUN_FORMAT
  } catch {
    return false
  }
}

/** Checks a PyTorch run's files and converts them: the record, metrics and our weights. */
export function parsePytorchRun(files: PytorchRunFiles) {
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(files.runJson).toString('utf8'))
  } catch {
    throw bad(RUN_FILE, 'not valid JSON. Choose the run.json train.py wrote.')
  }
  const parsed = pytorchRunSchema.safeParse(raw)
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.map(String).join('.') ?? ''
    throw bad(RUN_FILE, `${field ? field + ': ' : ''}${describeIssues(parsed.error)}`, { field })
  }
  const run = parsed.data
  let spec: ModelSpec
  try {
    spec = parseModelFile(run.spec)
  } catch (err) {
    throw bad(RUN_FILE, `spec: ${err instanceof Error ? err.message : String(err)}`, { field: 'spec' })
  }
  const hyper = hyperSchema.safeParse(run.hyper)
  if (!hyper.success) throw bad(RUN_FILE, `hyper: ${describeIssues(hyper.error)}`, { field: 'hyper' })
  const decoded = decodeSafetensors(files.weights, PYTORCH_WEIGHTS_FILE)
  const weights = fromTorchTensors(spec, decoded.tensors, PYTORCH_WEIGHTS_FILE, decoded.otherDtypes)
  const metrics: EpochMetrics[] = []
  if (files.metrics) {
    Buffer.from(files.metrics)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .forEach((line, i) => {
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch {
          throw bad(METRICS_FILE, `line ${i + 1} is not valid JSON.`, { line: i + 1 })
        }
        const m = epochMetricsSchema.safeParse(value)
        if (!m.success) throw bad(METRICS_FILE, `line ${i + 1}: ${describeIssues(m.error)}`, { line: i + 1 })
        metrics.push(m.data)
      })
  }
  return { run, spec, hyper: hyper.data, weights, metrics }
}

/**
 * Adds a PyTorch-trained run: run.json (marked with trainedBy), metrics.jsonl and our normal
 * checkpoint (model/), so every view that reads a run works on it. Written in a hidden staging
 * folder and renamed into place: a bad file leaves nothing behind.
 */
export async function importPytorchRunFiles(store: RunStore, files: PytorchRunFiles): Promise<RunRecord> {
  const { run, spec, hyper, weights, metrics } = parsePytorchRun(files)
  const id = store.newId()
  const processes = `${run.trainedBy.worldSize} process${run.trainedBy.worldSize === 1 ? '' : 'es'}`
  const record: RunRecord = {
    id,
    createdAt: run.createdAt ?? new Date().toISOString(),
    status: 'completed',
    spec,
    dataset: run.dataset,
    hyper,
    backend: null,
    params: summarizeModel(spec).trainableParams,
    epochsDone: run.epochsDone,
    test: run.test ?? null,
    error: null,
    ...(run.preprocessing ? { preprocessing: run.preprocessing } : {}),
    name: `${run.name ?? spec.name} (PyTorch, ${processes})`.slice(0, 200),
    ...(run.note ? { notes: run.note } : {}),
    trainedBy: run.trainedBy
  }
  await installImportedRun(store, id, async (staging) => {
    await staging.create(record)
    for (const m of metrics) await staging.appendMetrics(id, m)
    await staging.writeCheckpoint(id, spec, weights, run.epochsDone)
    await staging.writeFilterSnapshot(id, run.epochsDone, weights)
    if (files.evaluation) await writeFileAtomic(join(staging.dir(id), PYTORCH_EVALUATION_FILE), files.evaluation)
  })
  return record
}

async function readCapped(path: string, maxBytes: number, optional = false): Promise<Buffer | undefined> {
  const info = await stat(path).catch(() => null)
  if (!info || !info.isFile()) {
    if (optional) return undefined
    throw new WorkbenchError('NOT_FOUND', `${path} is missing. A PyTorch run folder holds run.json and ${PYTORCH_WEIGHTS_FILE}.`, { file: path })
  }
  if (info.size > maxBytes) throw bad(path, `${info.size} bytes, more than the ${maxBytes} accepted.`)
  return readFile(path)
}

/** Imports the run folder train.py wrote (`--out`). */
export async function importPytorchRun(store: RunStore, dir: string): Promise<RunRecord> {
  const runJson = (await readCapped(join(dir, RUN_FILE), MAX_TRAINED_JSON_BYTES)) as Buffer
  const weights = (await readCapped(join(dir, PYTORCH_WEIGHTS_FILE), MAX_TRAINED_WEIGHTS_BYTES)) as Buffer
  const metrics = await readCapped(join(dir, METRICS_FILE), MAX_METRICS_BYTES, true)
  const evaluation = await readCapped(join(dir, EVALUATION_FILE), MAX_TRAINED_JSON_BYTES, true)
  return importPytorchRunFiles(store, { runJson, weights, ...(metrics ? { metrics } : {}), ...(evaluation ? { evaluation } : {}) })
}

/** The same import from files the renderer sent (names and base64 contents). */
export function isPytorchRunUpload(files: ReadonlyArray<{ name: string }>): boolean {
  return files.some((f) => basename(f.name) === PYTORCH_WEIGHTS_FILE)
}

export async function importPytorchRunUpload(store: RunStore, files: ReadonlyArray<{ name: string; base64: string }>): Promise<RunRecord> {
  const find = (name: string): Buffer | undefined => {
    const f = files.find((x) => basename(x.name) === name)
    return f ? Buffer.from(f.base64, 'base64') : undefined
  }
  const runJson = find(RUN_FILE)
  if (!runJson) throw new WorkbenchError('NOT_FOUND', `${RUN_FILE} is missing: choose run.json, ${PYTORCH_WEIGHTS_FILE} and metrics.jsonl from the folder train.py wrote.`, { file: RUN_FILE })
  const metrics = find(METRICS_FILE)
  const evaluation = find(EVALUATION_FILE)
  return importPytorchRunFiles(store, {
    runJson,
    weights: find(PYTORCH_WEIGHTS_FILE) as Buffer,
    ...(metrics ? { metrics } : {}),
    ...(evaluation ? { evaluation } : {})
  })
}
