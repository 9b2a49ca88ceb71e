import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, extname, join } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetInfo } from '../../shared/contract/types'
import { DESCRIPTOR_FILE, datasetNameSchema, makeDescriptor } from '../../data/datasets/descriptor'
import { toDatasetName } from '../../data/datasets/detect'
import { decodeImage, toChannels } from './image-decode'
import { MAX_IDX_BYTES } from '../../data/datasets/idx'
import { importDataset } from './import'
import type { DatasetRegistry } from '../../data/datasets/registry'
import { seededShuffle } from './shuffle'

/** Default side of imported images: 28 px for grayscale (like MNIST), 32 px for RGB (like CIFAR). */
export const DEFAULT_IMAGE_SIZE = { grayscale: 28, rgb: 32 } as const
/** Smallest and largest side an imported image may be resized to, in pixels. */
export const IMAGE_SIZE_RANGE = [4, 256] as const
/** Default share of each class that goes to the test split when the folder has no split. */
export const DEFAULT_TEST_FRACTION = 0.2
/** Largest image file read, in bytes (50 MiB). */
export const MAX_IMAGE_FILE_BYTES = 50 * 1024 * 1024
/** Most images one import may hold. */
export const MAX_IMAGES = 200_000
/** Most classes (labels are one byte). */
const MAX_CLASSES = 256
/** Seed of the train/test split, so importing the same folder twice gives the same split. */
const SPLIT_SEED = 1234
/** Images decoded between two yields to the event loop. */
const IMAGES_PER_SLICE = 16
const IMAGE_EXT = /\.(png|jpe?g)$/i
const UNSUPPORTED_IMAGE_EXT = /\.(gif|bmp|webp|tiff?|heic|avif)$/i

/** Choices for importing a folder of images. */
export interface ImageImportOptions {
  name?: string
  /** Side of the square images stored, in pixels; DEFAULT_IMAGE_SIZE by colour when absent. */
  imageSize?: number
  color?: 'grayscale' | 'rgb'
  /** Share of each class held out for testing when the folder has no train/ and test/. */
  testFraction?: number
  signal?: AbortSignal
  /** Called after each decoded image. */
  onProgress?: (done: number, total: number, file: string) => void
}

/** The imported dataset, and how many files that are not PNG or JPEG were skipped. */
export interface ImageImportResult {
  info: DatasetInfo
  skippedFiles: number
}

interface ImageFile {
  path: string
  /** Shown in errors: class folder and file name (and split folder when there is one). */
  label: string
  classIndex: number
}

function fail(message: string, details?: unknown): never {
  throw new WorkbenchError('DATASET_ERROR', message, details)
}

async function subfolders(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true })
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
}

/** True when the folder has train/ and test/ folders of class folders, or class folders of images. */
export async function isImageFolder(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return false
    const dirs = await subfolders(path)
    const root = dirs.includes('train') && dirs.includes('test') ? join(path, 'train') : path
    for (const dir of await subfolders(root)) {
      const files = await readdir(join(root, dir))
      if (files.some((f) => IMAGE_EXT.test(f))) return true
    }
    return false
  } catch {
    return false
  }
}

/** Image files of each class folder; counts the other files, which are skipped. */
async function scanSplit(
  root: string,
  classes: string[],
  prefix: string
): Promise<{ files: ImageFile[]; skipped: number; perClass: number[] }> {
  const files: ImageFile[] = []
  const perClass = classes.map(() => 0)
  let skipped = 0
  for (const [classIndex, name] of classes.entries()) {
    const folder = join(root, name)
    const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1
    )
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue
      const label = `${prefix}${name}/${entry.name}`
      if (!entry.isFile() || !IMAGE_EXT.test(entry.name)) {
        if (entry.isFile() && UNSUPPORTED_IMAGE_EXT.test(entry.name)) {
          fail(
            `${label} is a ${extname(entry.name).slice(1).toUpperCase()} image; only PNG and ` +
              'JPEG are read. Convert it to PNG or remove it.',
            { file: join(folder, entry.name) }
          )
        }
        skipped++
        continue
      }
      files.push({ path: join(folder, entry.name), label, classIndex })
      perClass[classIndex]++
      if (files.length > MAX_IMAGES) {
        fail(`${root} has more than ${MAX_IMAGES.toLocaleString('en-US')} images. Import fewer.`)
      }
    }
  }
  return { files, skipped, perClass }
}

function checkClasses(root: string, classes: string[]): void {
  if (classes.length < 2) {
    fail(
      `${root} has ${classes.length === 0 ? 'no class folders' : `only one class folder (${classes[0]})`}; ` +
        'a classifier needs at least two. Put each class in its own sub-folder.'
    )
  }
  if (classes.length > MAX_CLASSES) {
    fail(`${root} has ${classes.length} class folders; at most ${MAX_CLASSES} are supported.`)
  }
}

function checkNotEmpty(root: string, classes: string[], perClass: number[], prefix: string): void {
  const empty = classes.filter((_, i) => perClass[i] === 0)
  if (empty.length > 0) {
    fail(
      `Class folder ${prefix}${empty[0]} in ${root} has no PNG or JPEG images` +
        `${empty.length > 1 ? ` (nor have ${empty.slice(1).join(', ')})` : ''}. ` +
        'Add images or remove the folder.',
      { folder: join(root, prefix, empty[0]) }
    )
  }
}

/** Stratified, seeded split: per class, round(n × fraction) images (at least one when n ≥ 2) to test. */
export function splitByClass(
  files: ImageFile[],
  classCount: number,
  testFraction: number
): { train: ImageFile[]; test: ImageFile[] } {
  const byClass: ImageFile[][] = Array.from({ length: classCount }, () => [])
  for (const f of files) byClass[f.classIndex].push(f)
  const train: ImageFile[] = []
  const test: ImageFile[] = []
  byClass.forEach((list, k) => {
    const shuffled = seededShuffle(list, SPLIT_SEED + k)
    const n = shuffled.length
    const held = Math.min(n - 1, Math.max(n >= 2 ? 1 : 0, Math.round(n * testFraction)))
    test.push(...shuffled.slice(0, held))
    train.push(...shuffled.slice(held))
  })
  return { train, test }
}

function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length)
  header[2] = 0x08
  header[3] = dims.length
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i))
  return Buffer.concat([header, data])
}

async function readImageFile(file: ImageFile): Promise<Buffer> {
  let info
  try {
    info = await stat(file.path)
  } catch (err) {
    fail(`${file.label} could not be read (${(err as Error).message}).`, { file: file.path })
  }
  if (info.size > MAX_IMAGE_FILE_BYTES) {
    fail(
      `${file.label} is ${(info.size / 1024 / 1024).toFixed(1)} MiB, more than the ` +
        `${MAX_IMAGE_FILE_BYTES / 1024 / 1024} MiB an image file may be. Shrink it.`,
      { file: file.path }
    )
  }
  try {
    return await readFile(file.path)
  } catch (err) {
    fail(`${file.label} could not be read (${(err as Error).message}). Check its permissions.`, {
      file: file.path
    })
  }
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Imports a folder with one sub-folder of PNG/JPEG images per class (or train/ and test/ folders
 * of those): every image resized to a square, stored as IDX files with a dataset.json through
 * importDataset, so the cache is replaced only when everything decoded. Non-image files are
 * skipped and counted; unsupported or damaged images fail naming the file.
 */
export async function importImageFolder(
  registry: DatasetRegistry,
  folder: string,
  options: ImageImportOptions = {}
): Promise<ImageImportResult> {
  const color = options.color ?? 'grayscale'
  const channels = color === 'rgb' ? 3 : 1
  const size = options.imageSize ?? DEFAULT_IMAGE_SIZE[color]
  const testFraction = options.testFraction ?? DEFAULT_TEST_FRACTION
  if (!Number.isInteger(size) || size < IMAGE_SIZE_RANGE[0] || size > IMAGE_SIZE_RANGE[1]) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `Image size ${size} is not possible; use a whole number of pixels from ` +
        `${IMAGE_SIZE_RANGE[0]} to ${IMAGE_SIZE_RANGE[1]}.`
    )
  }
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `Test fraction ${testFraction} is not possible; use a number between 0 and 1, such as 0.2.`
    )
  }
  const name = options.name ?? toDatasetName(basename(folder))
  if (!datasetNameSchema.safeParse(name).success || name === 'mnist') {
    throw new WorkbenchError(
      'BAD_REQUEST',
      `"${name}" cannot be a dataset name: use 1 to 64 lowercase letters, digits, ".", "_" or ` +
        '"-", and not mnist.'
    )
  }
  let dirs: string[]
  try {
    dirs = await subfolders(folder)
  } catch (err) {
    fail(`${folder} could not be listed (${(err as Error).message}). Check that it exists.`)
  }
  const hasSplit = dirs.includes('train') && dirs.includes('test')
  let train: ImageFile[]
  let test: ImageFile[]
  let skipped: number
  let classes: string[]
  if (hasSplit) {
    classes = await subfolders(join(folder, 'train'))
    checkClasses(join(folder, 'train'), classes)
    const testClasses = await subfolders(join(folder, 'test'))
    const unknown = testClasses.find((c) => !classes.includes(c))
    if (unknown) {
      fail(
        `test/${unknown} in ${folder} is a class that train/ does not have. Add train/${unknown} ` +
          'or remove the test folder.'
      )
    }
    const a = await scanSplit(join(folder, 'train'), classes, 'train/')
    checkNotEmpty(folder, classes, a.perClass, 'train/')
    const b = await scanSplit(join(folder, 'test'), classes, 'test/')
    if (b.files.length === 0) fail(`${folder}/test has no PNG or JPEG images. Add some.`)
    train = a.files
    test = b.files
    skipped = a.skipped + b.skipped
  } else {
    classes = dirs
    checkClasses(folder, classes)
    const a = await scanSplit(folder, classes, '')
    checkNotEmpty(folder, classes, a.perClass, '')
    ;({ train, test } = splitByClass(a.files, classes.length, testFraction))
    if (test.length === 0)
      fail(`${folder} has too few images to hold any out for testing. Add more.`)
    skipped = a.skipped
  }
  const sampleBytes = size * size * channels
  if ((train.length + test.length) * sampleBytes > MAX_IDX_BYTES) {
    fail(
      `${train.length + test.length} images of ${size}×${size}×${channels} would exceed ` +
        `${MAX_IDX_BYTES / 1024 / 1024} MiB. Choose a smaller size or fewer images.`
    )
  }
  // Shuffle training images (seeded) so they do not come class by class.
  train = seededShuffle(train, SPLIT_SEED)

  const total = train.length + test.length
  let done = 0
  const encode = async (list: ImageFile[]): Promise<{ images: Uint8Array; labels: Uint8Array }> => {
    const images = new Uint8Array(list.length * sampleBytes)
    const labels = new Uint8Array(list.length)
    for (const [i, file] of list.entries()) {
      if (options.signal?.aborted) {
        throw new WorkbenchError('CANCELLED', `Import of ${folder} was cancelled; nothing changed.`)
      }
      const img = decodeImage(await readImageFile(file), file.label)
      images.set(toChannels(img, size, channels), i * sampleBytes)
      labels[i] = file.classIndex
      done++
      options.onProgress?.(done, total, file.label)
      if (done % IMAGES_PER_SLICE === 0) await yieldToEventLoop()
    }
    return { images, labels }
  }
  const trainData = await encode(train)
  const testData = await encode(test)

  const stage = await mkdtemp(join(tmpdir(), 'cnnwb-images-'))
  try {
    const dims = (n: number): number[] => (channels === 1 ? [n, size, size] : [n, size, size, 3])
    const outputs = [
      ['trainImages', 'train-images-idx3-ubyte', idxBytes(dims(train.length), trainData.images)],
      ['trainLabels', 'train-labels-idx1-ubyte', idxBytes([train.length], trainData.labels)],
      ['testImages', 't10k-images-idx3-ubyte', idxBytes(dims(test.length), testData.images)],
      ['testLabels', 't10k-labels-idx1-ubyte', idxBytes([test.length], testData.labels)]
    ] as const
    for (const [, file, bytes] of outputs) await writeFile(join(stage, file), bytes)
    const descriptor = makeDescriptor({
      name,
      title: basename(folder),
      kind: 'idx',
      origin: 'imported',
      classes,
      shape: [channels, size, size],
      trainCount: train.length,
      testCount: test.length,
      files: outputs.map(([role, file, bytes]) => ({
        role,
        file,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex')
      }))
    })
    await writeFile(join(stage, DESCRIPTOR_FILE), JSON.stringify(descriptor, null, 2) + '\n')
    // The staged folder has a dataset.json, so importDataset checks and installs it atomically.
    const info = await importDataset(registry, stage, {
      name,
      title: basename(folder)
    })
    return { info, skippedFiles: skipped }
  } finally {
    await rm(stage, { recursive: true, force: true })
  }
}
