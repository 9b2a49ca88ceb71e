import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import { CIFAR10_CLASSES, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES } from './cifar'
import { descriptorToSource, readDescriptor } from './descriptor'
import { readIdx, type IdxRole } from './idx'
import type { DatasetSource } from './types'

/** Digit class names of MNIST. */
export const DIGIT_CLASSES = Array.from({ length: 10 }, (_, i) => String(i))
/** Fashion-MNIST class names, in label order. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot'
]

const IDX_PATTERNS: Record<IdxRole, RegExp> = {
  trainImages: /^train-images[.-]idx3-ubyte(\.gz)?$/i,
  trainLabels: /^train-labels[.-]idx1-ubyte(\.gz)?$/i,
  testImages: /^(t10k|test)-images[.-]idx3-ubyte(\.gz)?$/i,
  testLabels: /^(t10k|test)-labels[.-]idx1-ubyte(\.gz)?$/i
}
const IDX_NAMES: Record<IdxRole, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte'
}
const IDX_ROLES = Object.keys(IDX_PATTERNS) as IdxRole[]
/** More distinct labels than this in a folder of IDX files means the labels are broken. */
const MAX_INFERRED_CLASSES = 100
const CIFAR_SUBFOLDER = 'cifar-10-batches-bin'
const CIFAR_ARCHIVE = /^cifar-10-binary\.(tar\.gz|tgz|tar)$/i
const IDX_FILE = /idx[13]-ubyte(\.gz)?$/i
const EXPECTED_FILES =
  'MNIST-style IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, ' +
  't10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or .gz) or CIFAR-10 binary ' +
  'files (data_batch_1.bin … data_batch_5.bin and test_batch.bin, or cifar-10-binary.tar.gz), ' +
  'or a folder of PNG or JPEG images with one sub-folder per class (pets/cat, pets/dog), ' +
  'optionally inside train/ and test/ folders'

function fail(message: string): never {
  throw new WorkbenchError('DATASET_ERROR', message)
}

/** Turns any folder name into a dataset name: lowercase, safe characters only. */
export function toDatasetName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64)
  return name || 'dataset'
}

function isFashion(path: string): boolean {
  return /fashion/i.test(path)
}

async function classesFromLabels(path: string, labelFiles: string[]): Promise<string[]> {
  if (isFashion(path)) return FASHION_MNIST_CLASSES
  let max = 0
  for (const file of labelFiles) {
    const { data } = await readIdx(file)
    for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i]
    if (max >= MAX_INFERRED_CLASSES) {
      fail(
        `${basename(file)} has label ${max}, more than the ${MAX_INFERRED_CLASSES} classes a ` +
          'dataset may have. Check that it is a label file of this dataset.'
      )
    }
  }
  return max <= 9 ? DIGIT_CLASSES : Array.from({ length: max + 1 }, (_, i) => String(i))
}

async function idxSourceFrom(folder: string, files: string[]): Promise<DatasetSource | null> {
  const found: Partial<Record<IdxRole, string>> = {}
  for (const role of IDX_ROLES) {
    // Prefer the raw file over the .gz one when both are there: it loads faster.
    const matches = files.filter((f) => IDX_PATTERNS[role].test(f)).sort()
    if (matches.length > 0) found[role] = join(folder, matches[0])
  }
  const missing = IDX_ROLES.filter((role) => !found[role])
  if (missing.length === IDX_ROLES.length) return null
  if (missing.length > 0) {
    const names = missing.map((role) => IDX_NAMES[role]).join(', ')
    fail(`${folder} has some IDX files but lacks ${names} (raw or .gz). Add them.`)
  }
  const paths = found as Record<IdxRole, string>
  const classes = await classesFromLabels(folder, [paths.trainLabels, paths.testLabels])
  const name = isFashion(folder) ? 'fashion-mnist' : toDatasetName(basename(folder))
  return { kind: 'idx', name, classes, ...paths }
}

function cifarSourceFrom(folder: string, files: string[]): DatasetSource | null {
  const present = new Set(files)
  const wanted = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH]
  const missing = wanted.filter((f) => !present.has(f))
  if (missing.length === wanted.length) return null
  if (missing.length > 0) {
    fail(`${folder} has some CIFAR-10 batches but lacks ${missing.join(', ')}. Add them.`)
  }
  return {
    kind: 'cifar10',
    name: 'cifar-10',
    classes: CIFAR10_CLASSES,
    trainFiles: CIFAR_TRAIN_BATCHES.map((f) => join(folder, f)),
    testFiles: [join(folder, CIFAR_TEST_BATCH)]
  }
}

/** The source for a cifar-10-binary tar(.gz) archive file. */
export function cifarArchiveSource(path: string): DatasetSource {
  return {
    kind: 'cifar10',
    name: 'cifar-10',
    classes: CIFAR10_CLASSES,
    trainFiles: [path],
    testFiles: [path]
  }
}

/**
 * Works out what dataset a path holds: a folder with dataset.json, a folder of IDX files,
 * a folder of CIFAR-10 batches, or a cifar-10-binary archive.
 */
export async function detectSource(path: string): Promise<DatasetSource> {
  let info
  try {
    info = await stat(path)
  } catch {
    fail(`${path} does not exist. Give a folder with ${EXPECTED_FILES}.`)
  }
  if (info.isFile()) {
    if (IDX_FILE.test(basename(path))) return detectSource(dirname(path))
    return cifarArchiveSource(path)
  }
  if (!info.isDirectory()) fail(`${path} is neither a file nor a folder.`)
  const descriptor = await readDescriptor(path)
  if (descriptor) return descriptorToSource(path, descriptor)
  let files: string[]
  try {
    files = await readdir(path)
  } catch (err) {
    fail(`${path} could not be listed (${(err as Error).message}). Check its permissions.`)
  }
  const source = (await idxSourceFrom(path, files)) ?? cifarSourceFrom(path, files)
  if (source) return source
  if (files.includes(CIFAR_SUBFOLDER)) return detectSource(join(path, CIFAR_SUBFOLDER))
  const archive = files.find((f) => CIFAR_ARCHIVE.test(f))
  if (archive) return cifarArchiveSource(join(path, archive))
  const subfolders = await Promise.all(
    files.slice(0, 50).map((f) => stat(join(path, f)).then((s) => s.isDirectory(), () => false))
  )
  if (subfolders.some(Boolean)) {
    fail(
      `${path} looks like a folder of images (one sub-folder per class). Import it first with ` +
        '`cnn-workbench dataset import PATH` or the Data tab, then train on the name it gets.'
    )
  }
  fail(`${path} holds no dataset files. Expected ${EXPECTED_FILES}.`)
}
