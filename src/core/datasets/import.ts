import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, mkdtemp, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve as resolvePath } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetInfo } from '../../shared/contract/types'
import { CIFAR_TEST_BATCH } from '../../data/datasets/cifar'
import {
  DESCRIPTOR_FILE,
  datasetNameSchema,
  descriptorToInfo,
  makeDescriptor,
  type DatasetDescriptor,
  type FileRole
} from '../../data/datasets/descriptor'
import { detectSource } from '../../data/datasets/detect'
import { isGzip } from '../../data/datasets/idx'
import { loadDataset, type DatasetRegistry } from '../../data/datasets/registry'
import type { DatasetSource } from '../../data/datasets/types'
import { processAlive } from '../services/run-lock'

/** Choices for an import. */
export interface ImportOptions {
  /** Folder name under `<dataDir>/datasets/`; defaults to the detected name (fashion-mnist, …). */
  name?: string
  /** Shown in lists; defaults to the name. */
  title?: string
  /** Recorded in dataset.json; `downloaded` when the download module imports its files. */
  origin?: 'imported' | 'downloaded'
  /** Replace a dataset of the same name; without it the import is refused when one exists. */
  replace?: boolean
}

/** Prefix of an import's temp folder: `.import-<name>-<pid>-<random>`, swapped in when complete. */
export const IMPORT_TEMP_PREFIX = '.import-'

/** Refuses to overwrite an existing dataset unless the import says to replace it. */
export async function checkNotReplacing(registry: DatasetRegistry, name: string, replace?: boolean): Promise<void> {
  if (replace) return
  if (await exists(join(registry.datasetDir(name), DESCRIPTOR_FILE))) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `A dataset named "${name}" exists already; runs trained on it would then see other data. ` +
        'Import under another name (--name NEW, or the name field), or replace it on purpose ' +
        '(--replace, or tick "Replace the existing dataset").',
      { name, exists: true }
    )
  }
}

/**
 * Removes temp folders of imports that were killed mid-way (their process is gone), and old
 * copies a crash left between the two renames of a replace. Run when a host starts.
 */
export async function cleanStaleImports(registry: DatasetRegistry): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(registry.datasetsDir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    if (!name.startsWith(IMPORT_TEMP_PREFIX) && !name.startsWith('.old-')) continue
    // `.import-<name>-<pid>-<random>`: an import still running in another process is left alone.
    const pid = Number(/-(\d+)-[^-]+$/.exec(name)?.[1])
    if (name.startsWith(IMPORT_TEMP_PREFIX) && Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue
    await rm(join(registry.datasetsDir, name), { recursive: true, force: true }).catch(() => undefined)
    removed.push(name)
  }
  return removed
}

const IDX_FILE_NAMES: Record<string, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte'
}
const RESERVED_NAMES = new Set(['mnist'])

interface PlannedFile {
  role: FileRole
  from: string
  file: string
}

async function startsWithGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(2)
    await handle.read(head, 0, 2, 0)
    return isGzip(head)
  } finally {
    await handle.close()
  }
}

async function planFiles(source: DatasetSource): Promise<PlannedFile[]> {
  if (source.kind === 'idx') {
    const roles = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const
    return Promise.all(
      roles.map(async (role) => {
        const from = source[role]
        const suffix = (await startsWithGzip(from)) ? '.gz' : ''
        return { role, from, file: IDX_FILE_NAMES[role] + suffix }
      })
    )
  }
  const single = source.trainFiles.length === 1 && source.testFiles.length === 1
  if (single && source.trainFiles[0] === source.testFiles[0]) {
    const from = source.trainFiles[0]
    const file = (await startsWithGzip(from)) ? 'cifar-10-binary.tar.gz' : 'cifar-10-binary.tar'
    return [{ role: 'archive', from, file }]
  }
  // Batch files get fixed names, so nothing from the source decides where a copy lands.
  return [
    ...source.trainFiles.map((from, i) => ({
      role: 'train' as const,
      from,
      file: `data_batch_${i + 1}.bin`
    })),
    ...source.testFiles.map((from, i) => ({
      role: 'test' as const,
      from,
      file: i === 0 ? CIFAR_TEST_BATCH : `test_batch_${i + 1}.bin`
    }))
  ]
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function checkName(name: string): string {
  const parsed = datasetNameSchema.safeParse(name)
  if (!parsed.success) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `"${name}" cannot be a dataset name: ${parsed.error.issues[0].message}.`
    )
  }
  if (RESERVED_NAMES.has(name)) {
    throw new WorkbenchError('BAD_REQUEST', `"${name}" is the bundled dataset; pick another name.`)
  }
  return name
}

function ioError(action: string, err: unknown): WorkbenchError {
  if (err instanceof WorkbenchError) return err
  const reason = err instanceof Error ? err.message : String(err)
  return new WorkbenchError(
    'IO_ERROR',
    `Could not ${action} (${reason}). Check free disk space and permissions of the data folder.`
  )
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false
  )
}

/** Swaps a finished temp folder into place; the old folder comes back if the swap fails. */
async function replaceFolder(tempDir: string, target: string, parent: string): Promise<void> {
  if (!(await exists(target))) {
    await rename(tempDir, target)
    return
  }
  const old = join(parent, `.old-${randomBytes(6).toString('hex')}`)
  await rename(target, old)
  try {
    await rename(tempDir, target)
  } catch (err) {
    await rename(old, target)
    throw err
  }
  await rm(old, { recursive: true, force: true })
}

/**
 * Checks that a folder or archive holds a dataset that parses, then copies it into
 * `<dataDir>/datasets/<name>/` with a dataset.json, replacing an older copy only on success.
 */
export async function importDataset(
  registry: DatasetRegistry,
  sourcePath: string,
  options: ImportOptions = {}
): Promise<DatasetInfo> {
  const detected = await detectSource(resolvePath(sourcePath))
  const name = checkName(options.name ?? detected.name)
  await checkNotReplacing(registry, name, options.replace)
  const source: DatasetSource = { ...detected, name }
  const loaded = await loadDataset(source)
  if (loaded.train.count === 0) {
    throw new WorkbenchError(
      'DATASET_ERROR',
      `${sourcePath} has no training images (its test split has ${loaded.test.count}), so nothing ` +
        'could be trained on it. Add training images and import again.'
    )
  }
  const planned = await planFiles(source)

  const parent = registry.datasetsDir
  let tempDir: string | null = null
  try {
    await mkdir(parent, { recursive: true })
    tempDir = await mkdtemp(join(parent, `${IMPORT_TEMP_PREFIX}${name}-${process.pid}-`))
    const files: DatasetDescriptor['files'] = []
    for (const plan of planned) {
      const dest = join(tempDir, plan.file)
      await copyFile(plan.from, dest)
      const bytes = (await stat(dest)).size
      files.push({ role: plan.role, file: plan.file, bytes, sha256: await sha256Of(dest) })
    }
    const descriptor = makeDescriptor({
      name,
      title: options.title ?? name,
      kind: source.kind,
      origin: options.origin ?? 'imported',
      classes: loaded.classes,
      shape: loaded.shape,
      trainCount: loaded.train.count,
      testCount: loaded.test.count,
      files
    })
    await writeFile(join(tempDir, DESCRIPTOR_FILE), JSON.stringify(descriptor, null, 2) + '\n')
    await replaceFolder(tempDir, registry.datasetDir(name), parent)
    tempDir = null
    registry.clearCache()
    return descriptorToInfo(descriptor)
  } catch (err) {
    throw ioError(`import ${name} into ${parent}`, err)
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true })
  }
}
