import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { WorkbenchError } from '../../shared/contract/errors'
import type { Hyper } from '../../shared/hyper'
import type { ModelSpec } from '../../shared/model/spec'
import type { PytorchExportRequest } from '../../shared/contract/model-exchange'
import { buildNotebook, buildPytorchProject, type ProjectInput, type RecipeDataset, type RecordedFile } from '../../shared/export/pytorch-project'
import type { DatasetRegistry } from '../../data/datasets/registry'
import type { DatasetSource } from '../../data/datasets/types'
import { writeFileAtomic } from '../../data/atomic-write'
import { buildTrainedFiles, parseTrainedFiles, writeFolder } from './model-exchange'
import type { RunStore } from '../../data/runs/run-store'

/** What a PyTorch export writes: a project folder, or one notebook file. */
export type PytorchExportFormat = 'pytorch' | 'notebook'

/** SHA-256 of a file's contents, gunzipped first when gzipped (a .gz and its raw file agree). */
export async function contentSha256(path: string): Promise<string> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw new WorkbenchError('DATASET_ERROR', `Cannot read the dataset file ${path} (${(err as NodeJS.ErrnoException).code ?? err}).`)
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes)
  return createHash('sha256').update(bytes).digest('hex')
}

/** The dataset's files with their hashes, as train.py reads and checks them. */
export async function recipeDataset(source: DatasetSource): Promise<RecipeDataset> {
  const hashed = async (role: string, path: string): Promise<RecordedFile> => ({ role, path, sha256: await contentSha256(path) })
  if (source.kind === 'idx') {
    const roles = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const
    const files = await Promise.all(roles.map((r) => hashed(r, source[r])))
    return { name: source.name, kind: 'idx', trainImages: source.trainImages, trainLabels: source.trainLabels, testImages: source.testImages, testLabels: source.testLabels, files }
  }
  const files = await Promise.all([
    ...source.trainFiles.map((p, i) => hashed(`trainFiles:${i}`, p)),
    ...source.testFiles.map((p, i) => hashed(`testFiles:${i}`, p))
  ])
  return { name: source.name, kind: 'cifar10', trainFiles: source.trainFiles, testFiles: source.testFiles, files }
}


/** The project input of a kept run: its spec, hyperparameters, data files, scaling and trained weights. */
export async function runProjectInput(store: RunStore, datasets: DatasetRegistry, runId: string): Promise<ProjectInput> {
  const record = await store.read(runId)
  const source = await datasets.resolve(record.dataset)
  const classes = source.classes
  const files = await buildTrainedFiles(store, runId, classes)
  const trained = parseTrainedFiles(files.modelJson, files.weightsBin)
  return {
    name: record.name ?? record.spec.name,
    spec: trained.spec,
    hyper: record.hyper,
    classes,
    dataset: await recipeDataset(source),
    ...(record.preprocessing ? { preprocessing: record.preprocessing } : {}),
    weights: trained.weights,
    runId
  }
}

/** The project input of a model and training settings (no weights: train.py starts from scratch). */
export async function specProjectInput(datasets: DatasetRegistry, spec: ModelSpec, datasetRef: string, hyper: Hyper): Promise<ProjectInput> {
  const source = await datasets.resolve(datasetRef)
  return { name: spec.name, spec, hyper, classes: source.classes, dataset: await recipeDataset(source) }
}

/** Writes a project folder (format pytorch) or a notebook file (format notebook) at `out`. */
export async function writePytorchExport(input: ProjectInput, format: PytorchExportFormat, out: string): Promise<{ path: string; files: string[] }> {
  if (format === 'pytorch') return { path: out, files: await writeFolder(out, buildPytorchProject(input)) }
  const path = out.endsWith('.ipynb') ? out : join(out, 'notebook.ipynb')
  try {
    await mkdir(dirname(path), { recursive: true })
    await writeFileAtomic(path, buildNotebook(input))
  } catch (err) {
    throw new WorkbenchError('IO_ERROR', `Cannot write ${path} (${(err as NodeJS.ErrnoException)?.code ?? err}). Choose a writable folder.`)
  }
  return { path, files: [basename(path)] }
}

/** A file-name stem from a name: letters, digits, dots, dashes and underscores. */
const stem = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 60) || 'model'

/**
 * The app's export (Runs and Model tabs): written into `<data folder>/exports/NAME-STAMP`, since a
 * browser page cannot write where the learner picks; the path is shown to them.
 */
export async function exportPytorchToDataFolder(
  root: string,
  store: RunStore,
  datasets: DatasetRegistry,
  req: PytorchExportRequest
): Promise<{ path: string; files: string[] }> {
  const input = 'runId' in req ? await runProjectInput(store, datasets, req.runId) : await specProjectInput(datasets, req.spec, req.dataset, req.hyper)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const dir = join(root, `${stem(input.name)}-${req.format === 'notebook' ? 'notebook' : 'pytorch'}-${stamp}`)
  await mkdir(root, { recursive: true })
  return writePytorchExport(input, req.format, req.format === 'notebook' ? join(dir, `${stem(input.name)}.ipynb`) : dir)
}
