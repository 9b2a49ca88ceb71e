import { open, readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { constants as zlibConstants, gunzip } from 'node:zlib'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetSource, LoadedDataset, SplitData } from './types'

/** Largest IDX payload accepted, after decompression (MNIST train images are 47 MB). */
export const MAX_IDX_BYTES = 256 * 1024 * 1024
const IDX_DTYPE_UBYTE = 0x08
const IDX_MAX_DIMS = 4
const GZIP_MAGIC = [0x1f, 0x8b] as const

const DTYPE_NAMES: Record<number, string> = {
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64'
}

/** An IDX array: its dimensions and its bytes, a view into the file buffer (no copy). */
export interface IdxArray {
  dims: number[]
  data: Uint8Array
}

/** Limits for reading one IDX file. */
export interface ReadIdxOptions {
  /** Largest accepted size of the (decompressed) file; defaults to MAX_IDX_BYTES. */
  maxBytes?: number
}

/** Which of the four files of an IDX dataset a path is. */
export type IdxRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels'

function fail(message: string, details?: unknown): never {
  throw new WorkbenchError('DATASET_ERROR', message, details)
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(buffer: Uint8Array): boolean {
  return buffer.length >= 2 && buffer[0] === GZIP_MAGIC[0] && buffer[1] === GZIP_MAGIC[1]
}

interface IdxHeader {
  dims: number[]
  headerBytes: number
  declaredBytes: number
}

function parseIdxHeader(buffer: Uint8Array, fileLabel: string): IdxHeader {
  if (buffer.length < 4) {
    fail(`${fileLabel} is not an IDX file: it has only ${buffer.length} bytes. Check the file.`)
  }
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    const hint = isGzip(buffer) ? ' It looks gzip-compressed inside: decompress it first.' : ''
    fail(
      `${fileLabel} is not an IDX file (wrong magic number). Use MNIST-style IDX files such as ` +
        `train-images-idx3-ubyte.${hint}`
    )
  }
  const dtype = buffer[2]
  if (dtype !== IDX_DTYPE_UBYTE) {
    const name = DTYPE_NAMES[dtype] ?? `unknown type 0x${dtype.toString(16)}`
    fail(
      `${fileLabel} holds ${name} values; only unsigned-byte IDX files (type 0x08) are supported.`
    )
  }
  const ndims = buffer[3]
  if (ndims < 1 || ndims > IDX_MAX_DIMS) {
    fail(`${fileLabel} declares ${ndims} dimensions; IDX files here have 1 to ${IDX_MAX_DIMS}.`)
  }
  const headerBytes = 4 + 4 * ndims
  if (buffer.length < headerBytes) {
    fail(
      `${fileLabel} is truncated: its header needs ${headerBytes} bytes but the file has ` +
        `${buffer.length}. Copy or download the file again.`
    )
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  const dims: number[] = []
  let payloadBytes = 1
  for (let i = 0; i < ndims; i++) {
    const dim = view.getUint32(4 + 4 * i, false)
    dims.push(dim)
    payloadBytes *= dim
  }
  // Past 2^53 a product loses precision; such a header is broken anyway, so clamp it.
  const declaredBytes = Math.min(headerBytes + payloadBytes, Number.MAX_SAFE_INTEGER)
  return { dims, headerBytes, declaredBytes }
}

function checkDeclaredSize(header: IdxHeader, actualBytes: number, fileLabel: string): void {
  const { declaredBytes, dims } = header
  if (declaredBytes === actualBytes) return
  const shape = dims.join('×')
  if (declaredBytes > actualBytes) {
    fail(
      `${fileLabel} is truncated: its header (${shape}) declares ${declaredBytes} bytes but the ` +
        `file has ${actualBytes}. Copy or download the file again.`,
      { declaredBytes, actualBytes }
    )
  }
  fail(
    `${fileLabel} has ${actualBytes - declaredBytes} unexpected bytes after the data: its header ` +
      `(${shape}) declares ${declaredBytes} bytes but the file has ${actualBytes}. ` +
      'The file may be damaged; copy or download it again.',
    { declaredBytes, actualBytes }
  )
}

/** Parses an uncompressed IDX buffer; throws DATASET_ERROR naming `fileLabel` on any defect. */
export function parseIdx(buffer: Uint8Array, fileLabel: string): IdxArray {
  const header = parseIdxHeader(buffer, fileLabel)
  checkDeclaredSize(header, buffer.length, fileLabel)
  const data = new Uint8Array(
    buffer.buffer,
    buffer.byteOffset + header.headerBytes,
    header.declaredBytes - header.headerBytes
  )
  return { dims: header.dims, data }
}

function gunzipCapped(buffer: Uint8Array, maxBytes: number, fileLabel: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Z_SYNC_FLUSH returns what a cut-off stream holds, so the IDX size check can say how much.
    gunzip(
      buffer,
      { maxOutputLength: maxBytes, finishFlush: zlibConstants.Z_SYNC_FLUSH },
      (err, out) => {
        if (!err) return resolve(out)
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
          reject(
            new WorkbenchError(
              'DATASET_ERROR',
              `${fileLabel} decompresses to more than ${mib(maxBytes)}, more than any supported ` +
                'dataset file. It is not a dataset file this app can read.'
            )
          )
          return
        }
        reject(
          new WorkbenchError(
            'DATASET_ERROR',
            `${fileLabel} is a damaged gzip file (${err.message}). Download or copy it again.`
          )
        )
      }
    )
  })
}

/**
 * Reads a file whole, gunzipping it when it starts with the gzip magic bytes, never holding more
 * than `maxBytes` of output.
 */
export async function readMaybeGzip(path: string, maxBytes: number): Promise<Buffer> {
  const label = basename(path)
  let size: number
  try {
    size = (await stat(path)).size
  } catch (err) {
    fail(`${label} could not be read (${(err as Error).message}). Check that the file exists.`)
  }
  if (size > maxBytes) {
    fail(`${label} is ${mib(size)}, more than the ${mib(maxBytes)} a dataset file may have.`)
  }
  let raw: Buffer
  try {
    raw = await readFile(path)
  } catch (err) {
    fail(`${label} could not be read (${(err as Error).message}). Check the file's permissions.`)
  }
  return isGzip(raw) ? gunzipCapped(raw, maxBytes, label) : raw
}

async function readRawHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(bytes)
    const { bytesRead } = await handle.read(head, 0, bytes, 0)
    return head.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/** Reads and parses one IDX file, raw or gzip-compressed (detected by its magic bytes). */
export async function readIdx(path: string, options: ReadIdxOptions = {}): Promise<IdxArray> {
  const maxBytes = options.maxBytes ?? MAX_IDX_BYTES
  const label = basename(path)
  try {
    // For a raw file, compare the declared size with the file's size before reading it all.
    const head = await readRawHead(path, 4 + 4 * IDX_MAX_DIMS)
    if (!isGzip(head))
      checkDeclaredSize(parseIdxHeader(head, label), (await stat(path)).size, label)
  } catch (err) {
    if (err instanceof WorkbenchError) throw err
    fail(`${label} could not be read (${(err as Error).message}). Check that the file exists.`)
  }
  return parseIdx(await readMaybeGzip(path, maxBytes), label)
}

function toSplit(
  images: IdxArray,
  labels: IdxArray,
  imagesFile: string,
  labelsFile: string,
  classCount: number
): { split: SplitData; hwc: [number, number, number] } {
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    fail(
      `${imagesFile} has shape ${images.dims.join('×')}; image files need 3 dimensions ` +
        '(count × height × width). Check that images and labels are not swapped.'
    )
  }
  const channels = images.dims.length === 4 ? images.dims[3] : 1
  if (channels !== 1 && channels !== 3) {
    fail(`${imagesFile} has ${channels} channels per pixel; use 1 (grayscale) or 3 (RGB).`)
  }
  if (labels.dims.length !== 1) {
    fail(
      `${labelsFile} has shape ${labels.dims.join('×')}; a label file has 1 dimension (count). ` +
        'Check that images and labels are not swapped.'
    )
  }
  const count = images.dims[0]
  if (labels.dims[0] !== count) {
    fail(
      `${labelsFile} has ${labels.dims[0]} labels but ${imagesFile} has ${count} images. ` +
        'Use the label file that belongs to these images.'
    )
  }
  const height = images.dims[1]
  const width = images.dims[2]
  if (count > 0 && (height === 0 || width === 0)) {
    fail(`${imagesFile} has images of ${height}×${width} pixels; images need at least 1×1.`)
  }
  const data = labels.data
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= classCount) {
      fail(
        `${labelsFile} has label ${data[i]} at position ${i}, but the dataset has only ` +
          `${classCount} classes (0 to ${classCount - 1}). Check that the files belong together.`
      )
    }
  }
  return {
    split: { images: images.data, labels: labels.data, count },
    hwc: [height, width, channels]
  }
}

/** Loads an IDX dataset (4 files) and checks that images, labels and classes agree. */
export async function loadIdxDataset(
  source: Extract<DatasetSource, { kind: 'idx' }>,
  options: ReadIdxOptions = {}
): Promise<LoadedDataset> {
  const roles: IdxRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels']
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    roles.map((role) => readIdx(source[role], options))
  )
  const classCount = source.classes.length
  const name = (role: IdxRole): string => basename(source[role])
  const train = toSplit(
    trainImages,
    trainLabels,
    name('trainImages'),
    name('trainLabels'),
    classCount
  )
  const test = toSplit(testImages, testLabels, name('testImages'), name('testLabels'), classCount)
  const [h, w, c] = train.hwc
  if (test.hwc[0] !== h || test.hwc[1] !== w || test.hwc[2] !== c) {
    fail(
      `${name('testImages')} has ${test.hwc.join('×')} images but ${name('trainImages')} has ` +
        `${train.hwc.join('×')} (height×width×channels). Use files from the same dataset.`
    )
  }
  return {
    name: source.name,
    shape: [c, h, w],
    classes: [...source.classes],
    train: train.split,
    test: test.split
  }
}
