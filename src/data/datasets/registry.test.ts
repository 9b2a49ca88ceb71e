import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { datasetInfoSchema } from '../../shared/contract/types'
import { WorkbenchError } from '../../shared/contract/errors'
import { CIFAR10_CLASSES } from './cifar'
import { FASHION_MNIST_CLASSES } from './detect'
import { DatasetRegistry, loadDataset } from './registry'
import { makeIdx, writeCifarArchive, writeCifarFolder, writeIdxFolder } from './testing/fixtures'

const MNIST_TRAIN_PER_CLASS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]

let dir: string
let registry: DatasetRegistry
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-test-'))
  registry = new DatasetRegistry({ dataDir: join(dir, 'data') })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function errorOf(promise: Promise<unknown>): Promise<WorkbenchError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  return err as WorkbenchError
}

describe('DatasetRegistry.list', () => {
  it('lists bundled MNIST and the missing built-ins, valid per the contract', async () => {
    const infos = await registry.list()
    for (const info of infos) datasetInfoSchema.parse(info)
    expect(infos.map((i) => [i.name, i.available, i.source])).toEqual([
      ['mnist', true, 'bundled'],
      ['fashion-mnist', false, 'builtin-missing'],
      ['cifar-10', false, 'builtin-missing']
    ])
    expect(infos[0].classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect(infos[2].shape).toEqual([3, 32, 32])
  })
})

describe('DatasetRegistry.resolve', () => {
  it('finds MNIST by name in any case', async () => {
    const source = await registry.resolve('MNIST')
    expect(source.kind).toBe('idx')
    expect(source.name).toBe('mnist')
  })

  it('says a known but missing dataset must be imported', async () => {
    const err = await errorOf(registry.resolve('Fashion-MNIST'))
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/Fashion-MNIST .* is not on this computer yet/)
  })

  it('rejects an unknown name, listing the names and the folder alternative', async () => {
    const err = await errorOf(registry.resolve('imagenet'))
    expect(err.code).toBe('UNKNOWN_DATASET')
    expect(err.message).toMatch(/mnist, fashion-mnist \(not imported yet\), cifar-10/)
    expect(err.message).toMatch(/folder of IDX files/)
  })

  it('detects a folder of gzipped IDX files and a Fashion-MNIST folder by its name', async () => {
    const folder = await writeIdxFolder(join(dir, 'my-fashion-set'), { gzip: true })
    const source = await registry.resolve(folder)
    expect(source).toMatchObject({ kind: 'idx', name: 'fashion-mnist' })
    expect(source.classes).toEqual(FASHION_MNIST_CLASSES)
    const ds = await registry.loadDataset(source)
    expect(ds.train.count).toBe(30)
  })

  it('gives numbered classes to a generic IDX folder with more than 10 labels', async () => {
    const folder = await writeIdxFolder(join(dir, 'Letters'), { classCount: 26, trainCount: 52 })
    const source = await registry.resolve(folder)
    expect(source.name).toBe('letters')
    expect(source.classes).toHaveLength(26)
  })

  it('names the IDX files a folder lacks', async () => {
    const folder = join(dir, 'partial')
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, 'train-images-idx3-ubyte'), makeIdx([1, 1, 1], Uint8Array.of(0)))
    const err = await errorOf(registry.resolve(folder))
    expect(err.message).toMatch(/lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte/)
  })

  it('says what a folder without dataset files should hold', async () => {
    const folder = join(dir, 'empty')
    await mkdir(folder, { recursive: true })
    const err = await errorOf(registry.resolve(folder))
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/holds no dataset files.*train-images-idx3-ubyte/)
    // The image-folder option is named too, so a learner with PNGs knows it is possible.
    expect(err.message).toMatch(/PNG or JPEG images with one sub-folder per class/)
  })

  it('tells a folder of class folders to be imported first', async () => {
    const folder = join(dir, 'pictures')
    await mkdir(join(folder, 'cats'), { recursive: true })
    await mkdir(join(folder, 'dogs'), { recursive: true })
    // Class folders without images (like /etc): say what is missing, not "import it".
    const empty = await errorOf(registry.resolve(folder))
    expect(empty.code).toBe('DATASET_ERROR')
    expect(empty.message).toMatch(/holds no dataset.*sub-folders \(cats, dogs\) hold no PNG or JPEG images/)
    expect(empty.message).not.toMatch(/dataset import/)
    await writeFile(join(folder, 'cats', 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]))
    const err = await errorOf(registry.resolve(folder))
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/folder of images.*dataset import/)
  })

  it('detects CIFAR-10 as extracted batches, a batches subfolder, or the archive', async () => {
    await writeCifarFolder(join(dir, 'cifar', 'cifar-10-batches-bin'), 2)
    const archive = await writeCifarArchive(join(dir, 'cifar-10-binary.tar.gz'), 2)
    for (const path of [join(dir, 'cifar', 'cifar-10-batches-bin'), join(dir, 'cifar'), archive]) {
      const source = await registry.resolve(path)
      expect(source).toMatchObject({ kind: 'cifar10', name: 'cifar-10', classes: CIFAR10_CLASSES })
      const ds = await loadDataset(source)
      expect([ds.train.count, ds.test.count]).toEqual([10, 2])
    }
  })
})

describe('DatasetRegistry options', () => {
  it('reads MNIST from the mnistDir it was given', async () => {
    const mnistDir = await writeIdxFolder(join(dir, 'own-mnist'), { trainCount: 12, testCount: 4 })
    const own = new DatasetRegistry({ dataDir: join(dir, 'own-data'), mnistDir })
    const report = await own.inspect('mnist')
    expect([report.train.count, report.test.count]).toEqual([12, 4])
  })

  it('names the missing file when the MNIST folder is gone', async () => {
    const own = new DatasetRegistry({ dataDir: dir, mnistDir: join(dir, 'nowhere') })
    const err = await errorOf(own.load('mnist'))
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toMatch(/-idx[13]-ubyte could not be read/)
  })
})

describe('DatasetRegistry.inspect', () => {
  it('reports the real MNIST counts per class', async () => {
    const report = await registry.inspect('mnist')
    expect(report.shape).toEqual([1, 28, 28])
    expect(report.train.count).toBe(60_000)
    expect(report.train.perClass).toEqual(MNIST_TRAIN_PER_CLASS)
    expect(report.test.count).toBe(10_000)
    expect(report.test.perClass.reduce((a, b) => a + b, 0)).toBe(10_000)
  })

  it('serves a second load of the same dataset from the cache', async () => {
    const first = await registry.load('mnist')
    const second = await registry.load('mnist')
    // The same object proves the cache (no wall-clock check: it flakes under load). Compare
    // identity directly: a failing toBe would deep-diff 47 MB of pixels.
    expect(second === first).toBe(true)
    registry.clearCache()
    expect((await registry.load('mnist')) === first).toBe(false)
  })
})
