import { homedir } from 'node:os'
import { join } from 'node:path'
import type { EventSink } from '../../shared/contract/api'
import {
  HISTOGRAM_BINS,
  type DatasetInspection,
  type DatasetStats,
  type ImportResult,
  type Probe,
  type Samples
} from '../../shared/contract/datasets'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetInfo, Split } from '../../shared/contract/types'
import {
  DATASET_DOWNLOADS,
  downloadDataset,
  type DownloadProgress,
  type DownloadSpec
} from '../datasets/download'
import { importDataset } from '../datasets/import'
import { importImageFolder, isImageFolder, type ImageImportOptions } from '../datasets/image-folder'
import type { DatasetRegistry } from '../../data/datasets/registry'
import type { LoadedDataset, SplitData } from '../../data/datasets/types'

/** Samples the stats pass reads between two yields to the event loop, so IPC stays responsive. */
const STATS_SAMPLES_PER_SLICE = 4_000
/** Images decoded between two progress events of an image-folder import. */
const IMPORT_PROGRESS_EVERY = 25

/** What a samples request asks for, after the contract's defaults. */
export interface SamplesQuery {
  name: string
  split: Split
  classIndex?: number
  offset: number
  count: number
}

/** Dependencies of the dataset service; tests pass their own registry and download list. */
export interface DatasetServiceOptions {
  registry: DatasetRegistry
  emit: EventSink
  /** Downloadable datasets by name; the official locations unless a test injects others. */
  downloads?: Record<string, DownloadSpec>
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function expandHome(path: string): string {
  const trimmed = path.trim()
  return trimmed === '~' || trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(1)) : trimmed
}

/** Class index -> sample positions of that class, in file order. */
function indicesByClass(split: SplitData, classCount: number): Int32Array[] {
  const counts = new Int32Array(classCount)
  for (let i = 0; i < split.count; i++) counts[split.labels[i]]++
  const out = Array.from(counts, (n) => new Int32Array(n))
  const fill = new Int32Array(classCount)
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]
    out[label][fill[label]++] = i
  }
  return out
}

/** Mean, std, histogram and per-class mean images of a split; yields now and then. */
export async function computeStats(ds: LoadedDataset): Promise<DatasetStats> {
  const [channels, height, width] = ds.shape
  const size = channels * height * width
  const classCount = ds.classes.length
  const { images, labels, count } = ds.train
  const sums = new Float64Array(channels)
  const squares = new Float64Array(channels)
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0)
  const binShift = Math.log2(256 / HISTOGRAM_BINS)
  const classSums = new Float64Array(classCount * size)
  const perClass = new Array<number>(classCount).fill(0)
  for (let start = 0; start < count; start += STATS_SAMPLES_PER_SLICE) {
    const end = Math.min(count, start + STATS_SAMPLES_PER_SLICE)
    for (let i = start; i < end; i++) {
      const label = labels[i]
      perClass[label]++
      const base = i * size
      const classBase = label * size
      for (let p = 0; p < size; p++) {
        const v = images[base + p]
        const c = p % channels
        sums[c] += v
        squares[c] += v * v
        histogram[v >> binShift]++
        classSums[classBase + p] += v
      }
    }
    if (end < count) await yieldToEventLoop()
  }
  const perChannel = count * height * width
  const channelMean = Array.from(sums, (s) => s / perChannel / 255)
  const channelStd = Array.from(squares, (sq, c) =>
    Math.sqrt(Math.max(0, sq / perChannel / 65025 - channelMean[c] ** 2))
  )
  const total = perChannel * channels
  const sum = sums.reduce((a, b) => a + b, 0)
  const square = squares.reduce((a, b) => a + b, 0)
  const mean = total > 0 ? sum / total / 255 : 0
  const std = total > 0 ? Math.sqrt(Math.max(0, square / total / 65025 - mean * mean)) : 0
  const meanImages = new Uint8Array(classCount * size)
  for (let k = 0; k < classCount; k++) {
    const n = perClass[k]
    if (n === 0) continue
    for (let p = 0; p < size; p++) {
      meanImages[k * size + p] = Math.round(classSums[k * size + p] / n)
    }
  }
  return {
    name: ds.name,
    split: 'train',
    shape: ds.shape,
    count,
    mean,
    std,
    channelMean,
    channelStd,
    histogram,
    meanImages: Buffer.from(meanImages).toString('base64'),
    perClass
  }
}

/**
 * The explorer's data: counts, pages of samples and statistics, read in the main process so
 * only small pages cross to the renderer; plus imports and downloads with progress and cancel.
 */
export class DatasetService {
  private readonly registry: DatasetRegistry
  private readonly emit: EventSink
  private readonly downloads: Record<string, DownloadSpec>
  private readonly classIndex = new WeakMap<SplitData, Int32Array[]>()
  private readonly stats = new Map<string, Promise<DatasetStats>>()
  private readonly running = new Map<string, AbortController>()

  constructor(options: DatasetServiceOptions) {
    this.registry = options.registry
    this.emit = options.emit
    this.downloads = options.downloads ?? DATASET_DOWNLOADS
  }

  /** All known datasets, as the picker lists them. */
  list(): Promise<DatasetInfo[]> {
    return this.registry.list()
  }

  /** Shape, classes and samples per class of both splits. */
  inspect(name: string): Promise<DatasetInspection> {
    return this.registry.inspect(name)
  }

  /** One page of samples of a split, optionally of one class only. */
  async samples(query: SamplesQuery): Promise<Samples> {
    const ds = await this.registry.load(query.name)
    const split = ds[query.split]
    const size = ds.shape[0] * ds.shape[1] * ds.shape[2]
    let pool: Int32Array | null = null
    if (query.classIndex !== undefined) {
      if (query.classIndex >= ds.classes.length) {
        throw new WorkbenchError(
          'BAD_REQUEST',
          `${ds.name} has ${ds.classes.length} classes (0 to ${ds.classes.length - 1}); ` +
            `class ${query.classIndex} does not exist.`
        )
      }
      let byClass = this.classIndex.get(split)
      if (!byClass) {
        byClass = indicesByClass(split, ds.classes.length)
        this.classIndex.set(split, byClass)
      }
      pool = byClass[query.classIndex]
    }
    const total = pool ? pool.length : split.count
    const start = Math.min(query.offset, total)
    const end = Math.min(total, start + query.count)
    const indices: number[] = []
    for (let k = start; k < end; k++) indices.push(pool ? pool[k] : k)
    const pixels = Buffer.alloc(indices.length * size)
    indices.forEach((index, k) =>
      pixels.set(split.images.subarray(index * size, (index + 1) * size), k * size)
    )
    return {
      name: ds.name,
      split: query.split,
      shape: ds.shape,
      classIndex: query.classIndex ?? null,
      offset: start,
      total,
      indices,
      labels: indices.map((i) => split.labels[i]),
      pixels: pixels.toString('base64')
    }
  }

  /** Pixel statistics of the training split, computed on first request and then cached. */
  async getStats(name: string): Promise<DatasetStats> {
    const source = await this.registry.resolve(name)
    const key = JSON.stringify(source)
    let pending = this.stats.get(key)
    if (!pending) {
      pending = this.registry.loadDataset(source).then(computeStats)
      pending.catch(() => this.stats.delete(key))
      this.stats.set(key, pending)
    }
    return pending
  }

  /** Whether a path is a folder of class folders of images (so the form offers size and colour). */
  async probe(path: string): Promise<Probe> {
    return { kind: (await isImageFolder(expandHome(path))) ? 'images' : 'files' }
  }

  /**
   * Imports a folder of IDX files, a CIFAR-10 archive or its .bin files, or a folder of class
   * folders of PNG/JPEG images (resized and split as `images` says) from this machine.
   */
  async importPath(
    path: string,
    name?: string,
    images: Pick<ImageImportOptions, 'imageSize' | 'color' | 'testFraction'> = {}
  ): Promise<ImportResult> {
    const from = expandHome(path)
    const label = name ?? from
    return this.exclusive(label, async (signal) => {
      const progress = (fileIndex: number, fileCount: number, file: string): void =>
        this.emit('datasets:progress', {
          name: label,
          phase: 'import',
          file,
          fileIndex,
          fileCount,
          receivedBytes: 0,
          totalBytes: null
        })
      progress(0, 1, from)
      if (await isImageFolder(from)) {
        const { imageSize, color, testFraction } = images
        const { info, skippedFiles } = await importImageFolder(this.registry, from, {
          ...(name === undefined ? {} : { name }),
          ...(imageSize === undefined ? {} : { imageSize }),
          ...(color === undefined ? {} : { color }),
          ...(testFraction === undefined ? {} : { testFraction }),
          signal,
          onProgress: (done, total, file) => {
            if (done % IMPORT_PROGRESS_EVERY === 0 || done === total) progress(done, total, file)
          }
        })
        return { ...info, skippedFiles }
      }
      return importDataset(this.registry, from, name === undefined ? {} : { name })
    })
  }

  /** Downloads a dataset from its official location, verifies and imports it. */
  async download(name: string): Promise<DatasetInfo> {
    const spec = this.downloads[name.trim().toLowerCase()]
    if (!spec) {
      throw new WorkbenchError(
        'UNKNOWN_DATASET',
        `"${name}" cannot be downloaded. Downloadable: ${Object.keys(this.downloads).join(', ')}.`
      )
    }
    return this.exclusive(spec.name, async (signal) => {
      const onProgress = (p: DownloadProgress): void =>
        this.emit('datasets:progress', { name: spec.name, phase: 'download', ...p })
      try {
        return await downloadDataset(this.registry, spec, { onProgress, signal })
      } catch (err) {
        throw explainDownloadError(err, spec)
      }
    })
  }

  /** Cancels a running download or image import of this name; NOT_FOUND when none runs. */
  async cancel(name: string): Promise<{ ok: true }> {
    const controller = this.running.get(name.trim().toLowerCase())
    if (!controller) throw new WorkbenchError('NOT_FOUND', `No download of "${name}" is running.`)
    controller.abort()
    return { ok: true }
  }

  /** Runs one import or download at a time per dataset, then forgets cached statistics. */
  private async exclusive<T>(name: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const key = name.trim().toLowerCase()
    if (this.running.has(key)) {
      throw new WorkbenchError(
        'BUSY',
        `${name} is already being imported or downloaded. Wait for it, or cancel it.`
      )
    }
    const controller = new AbortController()
    this.running.set(key, controller)
    try {
      return await work(controller.signal)
    } finally {
      this.running.delete(key)
      this.stats.clear()
    }
  }
}

/** Network failures say which host was out of reach and that importing works offline. */
function explainDownloadError(err: unknown, spec: DownloadSpec): unknown {
  if (!(err instanceof WorkbenchError) || err.code !== 'IO_ERROR') return err
  const details = err.details as { url?: unknown; reason?: unknown } | undefined
  if (typeof details?.url !== 'string') return err
  let host = details.url
  try {
    host = new URL(details.url).host
  } catch {
    // Keep the whole address.
  }
  const files = spec.files.map((f) => f.file).join(', ')
  return new WorkbenchError(
    'IO_ERROR',
    `Could not reach ${host} to download ${spec.title} (${String(details.reason)}); import the ` +
      `files instead: get ${files} on a computer with internet access, copy them here, and ` +
      'import their folder.',
    details
  )
}
