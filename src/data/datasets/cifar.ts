import { basename } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import { readMaybeGzip } from './idx'
import { looksLikeTar, readTar } from './tar'
import type { DatasetSource, LoadedDataset, SplitData } from './types'

/** CIFAR-10 class names, in label order. */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck'
]
const CIFAR_SIDE_PX = 32
const CIFAR_PLANE_BYTES = CIFAR_SIDE_PX * CIFAR_SIDE_PX
const CIFAR_IMAGE_BYTES = 3 * CIFAR_PLANE_BYTES
/** One record: a label byte, then the red, green and blue 32×32 planes. */
export const CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES
/** Largest accepted CIFAR file after decompression (the official tar is 184 MB). */
export const MAX_CIFAR_BYTES = 320 * 1024 * 1024
/** File names of the official training batches. */
export const CIFAR_TRAIN_BATCHES = [1, 2, 3, 4, 5].map((n) => `data_batch_${n}.bin`)
/** File name of the official test batch. */
export const CIFAR_TEST_BATCH = 'test_batch.bin'

type CifarSource = Extract<DatasetSource, { kind: 'cifar10' }>

/** Bytes of one CIFAR batch with the name used in messages. */
export interface NamedBatch {
  label: string
  data: Uint8Array
}

function fail(message: string, details?: unknown): never {
  throw new WorkbenchError('DATASET_ERROR', message, details)
}

function checkBatch(batch: NamedBatch, classCount: number): number {
  const { label, data } = batch
  if (data.length === 0 || data.length % CIFAR_RECORD_BYTES !== 0) {
    fail(
      `${label} has ${data.length} bytes, not a whole number of ${CIFAR_RECORD_BYTES}-byte ` +
        'CIFAR-10 records (1 label byte + 32×32×3 pixels). It is truncated or not a CIFAR-10 ' +
        'binary batch; use the files from cifar-10-binary.tar.gz (not the Python version).',
      { actualBytes: data.length, recordBytes: CIFAR_RECORD_BYTES }
    )
  }
  const count = data.length / CIFAR_RECORD_BYTES
  for (let r = 0; r < count; r++) {
    const value = data[r * CIFAR_RECORD_BYTES]
    if (value >= classCount) {
      fail(
        `${label} has label ${value} in record ${r}, but CIFAR-10 has ${classCount} classes ` +
          `(0 to ${classCount - 1}). The file is damaged or not a CIFAR-10 batch.`
      )
    }
  }
  return count
}

/** Converts CIFAR batches (planar R, G, B per record) into one NHWC split. */
export function parseCifarBatches(batches: NamedBatch[], classCount = 10): SplitData {
  const counts = batches.map((b) => checkBatch(b, classCount))
  const count = counts.reduce((a, b) => a + b, 0)
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES)
  const labels = new Uint8Array(count)
  let n = 0
  for (const { data } of batches) {
    const records = data.length / CIFAR_RECORD_BYTES
    for (let r = 0; r < records; r++, n++) {
      const src = r * CIFAR_RECORD_BYTES
      labels[n] = data[src]
      const red = src + 1
      const green = red + CIFAR_PLANE_BYTES
      const blue = green + CIFAR_PLANE_BYTES
      let out = n * CIFAR_IMAGE_BYTES
      for (let p = 0; p < CIFAR_PLANE_BYTES; p++) {
        images[out++] = data[red + p]
        images[out++] = data[green + p]
        images[out++] = data[blue + p]
      }
    }
  }
  return { images, labels, count }
}

/** Picks the five training batches and the test batch out of a cifar-10-binary tar archive. */
export function cifarBatchesFromTar(
  tar: Uint8Array,
  archiveLabel: string
): { train: NamedBatch[]; test: NamedBatch[] } {
  const byName = new Map<string, Uint8Array>()
  for (const entry of readTar(tar, archiveLabel)) {
    const name = basename(entry.name)
    if (!byName.has(name)) byName.set(name, entry.data)
  }
  const wanted = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH]
  const missing = wanted.filter((name) => !byName.has(name))
  if (missing.length > 0) {
    fail(
      `${archiveLabel} lacks ${missing.join(', ')}. Use the official cifar-10-binary.tar.gz ` +
        '(the binary version, not the Python or MATLAB one).'
    )
  }
  const pick = (name: string): NamedBatch => ({
    label: `${archiveLabel}:${name}`,
    data: byName.get(name) as Uint8Array
  })
  return { train: CIFAR_TRAIN_BATCHES.map(pick), test: [pick(CIFAR_TEST_BATCH)] }
}

function isArchiveName(path: string): boolean {
  return /\.(tar|tgz|tar\.gz)$/i.test(path)
}

/**
 * Loads CIFAR-10. Each listed file is a binary batch (.bin) or a cifar-10-binary tar(.gz)
 * archive; from an archive, the train list takes data_batch_1..5 and the test list test_batch.
 */
export async function loadCifarDataset(source: CifarSource): Promise<LoadedDataset> {
  for (const [list, split] of [
    [source.trainFiles, 'training'],
    [source.testFiles, 'test']
  ] as const) {
    if (list.length === 0) {
      fail(`${source.name}: the ${split} file list is empty. Give at least one CIFAR-10 batch.`)
    }
  }
  // Each distinct file is read once, so one archive can serve both lists.
  const files = new Map<string, { train: NamedBatch[]; test: NamedBatch[] }>()
  for (const path of new Set([...source.trainFiles, ...source.testFiles])) {
    const data = await readMaybeGzip(path, MAX_CIFAR_BYTES)
    if (looksLikeTar(data) || isArchiveName(path)) {
      files.set(path, cifarBatchesFromTar(data, basename(path)))
    } else {
      const batch = { label: basename(path), data }
      files.set(path, { train: [batch], test: [batch] })
    }
  }
  const collect = (paths: string[], split: 'train' | 'test') =>
    paths.flatMap((path) => (files.get(path) as { train: NamedBatch[]; test: NamedBatch[] })[split])
  const classCount = source.classes.length
  return {
    name: source.name,
    shape: [3, CIFAR_SIDE_PX, CIFAR_SIDE_PX],
    classes: [...source.classes],
    train: parseCifarBatches(collect(source.trainFiles, 'train'), classCount),
    test: parseCifarBatches(collect(source.testFiles, 'test'), classCount)
  }
}
