import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventOf } from '../../shared/contract/api'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DownloadSpec } from '../datasets/download'
import { DatasetRegistry } from '../../data/datasets/registry'
import { makeIdx, writeIdxFolder } from '../../data/datasets/testing/fixtures'
import { DatasetService } from './dataset-service'

let dir: string
let server: Server
let baseUrl: string
const served = new Map<string, Buffer>()
/** Requests to this path get headers and a first chunk, then nothing, until cancelled. */
const HANG_PATH = '/hang'

/** A tiny 2 × 2 grayscale dataset whose statistics are easy to work out by hand. */
async function writeTinyDataset(folder: string): Promise<string> {
  await mkdir(folder, { recursive: true })
  // Train: class 0 twice (all 0, all 255), class 1 once (all 64), class 2 once (0, 64, 128, 255).
  const trainImages = Uint8Array.from([0, 0, 0, 0, 255, 255, 255, 255, 64, 64, 64, 64, 0, 64, 128, 255])
  const trainLabels = Uint8Array.from([0, 0, 1, 2])
  const testLabels = Uint8Array.from([2, 2, 1])
  const testImages = new Uint8Array(3 * 4).fill(9)
  await writeFile(join(folder, 'train-images-idx3-ubyte'), makeIdx([4, 2, 2], trainImages))
  await writeFile(join(folder, 'train-labels-idx1-ubyte'), makeIdx([4], trainLabels))
  await writeFile(join(folder, 't10k-images-idx3-ubyte'), makeIdx([3, 2, 2], testImages))
  await writeFile(join(folder, 't10k-labels-idx1-ubyte'), makeIdx([3], testLabels))
  return folder
}

function makeService(
  dataDir: string,
  downloads?: Record<string, DownloadSpec>
): { service: DatasetService; events: EventOf<'datasets:progress'>[] } {
  const events: EventOf<'datasets:progress'>[] = []
  const registry = new DatasetRegistry({ dataDir })
  const service = new DatasetService({
    registry,
    downloads,
    emit: (channel, payload) => {
      if (channel === 'datasets:progress') events.push(payload as EventOf<'datasets:progress'>)
    }
  })
  return { service, events }
}

async function errorOf(promise: Promise<unknown>): Promise<WorkbenchError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  return err as WorkbenchError
}

const md5 = (buf: Buffer): string => createHash('md5').update(buf).digest('hex')
const sha256 = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dataset-service-'))
  const fixture = await writeIdxFolder(join(dir, 'served'), { gzip: true, trainCount: 40 })
  for (const name of await readdir(fixture)) {
    served.set(`/fm/${name}`, await readFile(join(fixture, name)))
  }
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '')
    if (req.url === HANG_PATH) {
      res.writeHead(200, { 'content-length': 1_000_000 })
      res.write(Buffer.alloc(1000))
    } else if (body) {
      res.writeHead(200, { 'content-length': body.length })
      res.end(body)
    } else {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

describe('DatasetService explorer reads', () => {
  it('inspects per-class counts of train and test', async () => {
    const tiny = await writeTinyDataset(join(dir, 'tiny'))
    const { service } = makeService(join(dir, 'data-inspect'))
    const info = await service.inspect(tiny)
    expect(info.shape).toEqual([1, 2, 2])
    expect(info.classes).toHaveLength(10)
    expect(info.train).toEqual({ count: 4, perClass: [2, 1, 1, 0, 0, 0, 0, 0, 0, 0] })
    expect(info.test).toEqual({ count: 3, perClass: [0, 1, 2, 0, 0, 0, 0, 0, 0, 0] })
  })

  it('pages samples of one class with their file indices, labels and bytes', async () => {
    const folder = await writeIdxFolder(join(dir, 'paging'), { trainCount: 50, testCount: 10 })
    const { service } = makeService(join(dir, 'data-paging'))
    const page = await service.samples({ name: folder, split: 'train', classIndex: 3, offset: 2, count: 2 })
    expect(page.total).toBe(5)
    expect(page.indices).toEqual([23, 33])
    expect(page.labels).toEqual([3, 3])
    const bytes = Buffer.from(page.pixels, 'base64')
    expect(bytes.length).toBe(2 * 28 * 28)
    // The fixture writes the label in pixel 0 and the index in pixel 1 of each image.
    expect([bytes[0], bytes[1], bytes[784], bytes[785]]).toEqual([3, 23, 3, 33])

    const all = await service.samples({ name: folder, split: 'test', offset: 8, count: 200 })
    expect(all).toMatchObject({ total: 10, offset: 8, indices: [8, 9], classIndex: null })
    const past = await service.samples({ name: folder, split: 'test', offset: 500, count: 5 })
    expect(past.indices).toEqual([])
  })

  it('computes pixel mean, std, histogram and class means of the train split, once', async () => {
    const tiny = await writeTinyDataset(join(dir, 'tiny-stats'))
    const { service } = makeService(join(dir, 'data-stats'))
    const stats = await service.getStats(tiny)
    const values = [0, 0, 0, 0, 255, 255, 255, 255, 64, 64, 64, 64, 0, 64, 128, 255]
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length)
    expect(stats.split).toBe('train')
    expect(stats.mean).toBeCloseTo(mean / 255, 6)
    expect(stats.std).toBeCloseTo(std / 255, 6)
    expect(stats.channelMean).toHaveLength(1)
    expect(stats.histogram).toHaveLength(32)
    expect(stats.histogram.reduce((a, b) => a + b, 0)).toBe(16)
    expect(stats.histogram[0]).toBe(5)
    expect(stats.histogram[8]).toBe(5)
    expect(stats.histogram[31]).toBe(5)
    // Class 0 averages an all-black and an all-white image: mid grey (127.5 rounds to 128).
    const means = [...Buffer.from(stats.meanImages, 'base64')]
    expect(means.slice(0, 12)).toEqual([128, 128, 128, 128, 64, 64, 64, 64, 0, 64, 128, 255])
    expect(means).toHaveLength(10 * 4)
    expect(stats.perClass).toEqual([2, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    expect(await service.getStats(tiny)).toBe(stats)
  })

  it('gives typed errors for unknown datasets, missing paths and classes out of range', async () => {
    const { service } = makeService(join(dir, 'data-errors'))
    expect((await errorOf(service.inspect('nope'))).code).toBe('UNKNOWN_DATASET')
    const missing = await errorOf(service.samples({ name: join(dir, 'nowhere'), split: 'train', offset: 0, count: 1 }))
    expect(missing.code).toBe('DATASET_ERROR')
    expect(missing.message).toContain('nowhere')
    const tiny = await writeTinyDataset(join(dir, 'tiny-errors'))
    const outOfRange = await errorOf(service.samples({ name: tiny, split: 'train', classIndex: 12, offset: 0, count: 1 }))
    expect(outOfRange.code).toBe('BAD_REQUEST')
    expect(outOfRange.message).toMatch(/10 classes/)
  })
})

describe('DatasetService imports', () => {
  it('imports a folder of gzipped IDX files, which then lists and explores by name', async () => {
    const folder = await writeIdxFolder(join(dir, 'fashion-mnist-src'), { gzip: true, trainCount: 20 })
    const { service, events } = makeService(join(dir, 'data-import'))
    const info = await service.importPath(folder)
    expect(info).toMatchObject({ name: 'fashion-mnist', available: true, source: 'imported', trainCount: 20 })
    expect(events[0]).toMatchObject({ phase: 'import', file: folder })
    const listed = (await service.list()).find((d) => d.name === 'fashion-mnist')
    expect(listed?.available).toBe(true)
    expect((await service.inspect('fashion-mnist')).train.count).toBe(20)
    const renamed = await service.importPath(folder, 'my-set')
    expect(renamed.name).toBe('my-set')
  })

  it('names the file and the problem when an import fails, and leaves nothing behind', async () => {
    const folder = await writeIdxFolder(join(dir, 'broken'), { trainCount: 20 })
    await writeFile(join(folder, 'train-labels-idx1-ubyte'), makeIdx([19], new Uint8Array(19)))
    const dataDir = join(dir, 'data-broken')
    const { service } = makeService(dataDir)
    const err = await errorOf(service.importPath(folder))
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/train/)
    expect(err.message).toMatch(/19|20/)
    const notThere = await errorOf(service.importPath(join(dir, 'no-such-folder')))
    expect(notThere.message).toContain('no-such-folder')
    expect((await service.list()).filter((d) => d.source === 'imported')).toEqual([])
  })
})

describe('DatasetService downloads', () => {
  const spec = (files: string[], prefix = '/fm/'): Record<string, DownloadSpec> => ({
    'fashion-mnist': {
      name: 'fashion-mnist',
      title: 'Fashion-MNIST clothing',
      files: files.map((file) => ({
        url: `${baseUrl}${prefix}${file}`,
        file,
        md5: served.has(`/fm/${file}`) ? md5(served.get(`/fm/${file}`) as Buffer) : undefined,
        sha256: sha256(served.get(`/fm/${file}`) ?? Buffer.alloc(0))
      }))
    }
  })
  const FILES = [
    'train-images-idx3-ubyte.gz',
    'train-labels-idx1-ubyte.gz',
    't10k-images-idx3-ubyte.gz',
    't10k-labels-idx1-ubyte.gz'
  ]

  it('downloads from the injected URLs with progress per file, then lists the dataset', async () => {
    const { service, events } = makeService(join(dir, 'data-dl'), spec(FILES))
    const info = await service.download('fashion-mnist')
    expect(info).toMatchObject({ name: 'fashion-mnist', source: 'downloaded', trainCount: 40 })
    const downloads = events.filter((e) => e.phase === 'download')
    expect(new Set(downloads.map((e) => e.fileIndex))).toEqual(new Set([0, 1, 2, 3]))
    const last = downloads.filter((e) => e.fileIndex === 0).at(-1)
    expect(last?.receivedBytes).toBe(last?.totalBytes)
    expect((await service.inspect('fashion-mnist')).train.perClass).toHaveLength(10)
  })

  it('says the host could not be reached and to import the files instead', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const downloads = spec(FILES)
    downloads['fashion-mnist'].files[0].url = `http://127.0.0.1:${port}/x.gz`
    const { service } = makeService(join(dir, 'data-offline'), downloads)
    const err = await errorOf(service.download('fashion-mnist'))
    expect(err.code).toBe('IO_ERROR')
    expect(err.message).toMatch(new RegExp(`Could not reach 127\\.0\\.0\\.1:${port}`))
    expect(err.message).toMatch(/import the files instead/)
    expect(err.message).toContain('train-images-idx3-ubyte.gz')
  })

  it('cancels a running download, which then fails as CANCELLED', async () => {
    const downloads = spec(['train-images-idx3-ubyte.gz'], '')
    downloads['fashion-mnist'].files[0].url = `${baseUrl}${HANG_PATH}`
    const { service } = makeService(join(dir, 'data-cancel'), downloads)
    const pending = service.download('fashion-mnist')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await errorOf(service.download('fashion-mnist'))).code).toBe('BUSY')
    expect(await service.cancel('fashion-mnist')).toEqual({ ok: true })
    expect((await errorOf(pending)).code).toBe('CANCELLED')
    expect((await errorOf(service.cancel('fashion-mnist'))).code).toBe('NOT_FOUND')
    expect((await errorOf(service.download('kmnist-nope'))).code).toBe('UNKNOWN_DATASET')
  })
})
