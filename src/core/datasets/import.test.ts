import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../../shared/contract/errors'
import { datasetInfoSchema } from '../../shared/contract/types'
import { descriptorSchema } from '../../data/datasets/descriptor'
import { FASHION_MNIST_CLASSES } from '../../data/datasets/detect'
import { importDataset } from './import'
import { DatasetRegistry } from '../../data/datasets/registry'
import { makeIdx, writeCifarArchive, writeIdxFolder } from '../../data/datasets/testing/fixtures'

const SYSTEM_FASHION_DIR = '/usr/share/datasets/fashion-mnist'

let dir: string
let registry: DatasetRegistry
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'import-test-'))
  registry = new DatasetRegistry({ dataDir: join(dir, 'data') })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function fashionSourceDir(): Promise<{ path: string; real: boolean }> {
  if (existsSync(join(SYSTEM_FASHION_DIR, 'train-images-idx3-ubyte.gz'))) {
    return { path: SYSTEM_FASHION_DIR, real: true }
  }
  const path = await writeIdxFolder(join(dir, 'fashion-generated'), { gzip: true, trainCount: 60 })
  return { path, real: false }
}

describe('importDataset', () => {
  it('imports Fashion-MNIST, which then lists as available and loads by name', async () => {
    const { path, real } = await fashionSourceDir()
    const info = await importDataset(registry, path)
    datasetInfoSchema.parse(info)
    expect(info).toMatchObject({ name: 'fashion-mnist', available: true, source: 'imported' })
    expect(info.classes).toEqual(FASHION_MNIST_CLASSES)

    const listed = (await registry.list()).find((i) => i.name === 'fashion-mnist')
    expect(listed).toMatchObject({ available: true, source: 'imported', shape: [1, 28, 28] })

    const report = await registry.inspect('Fashion-MNIST')
    expect(report.classes[9]).toBe('Ankle boot')
    if (real) {
      expect(report.train.perClass).toEqual(new Array(10).fill(6000))
      expect(report.test.perClass).toEqual(new Array(10).fill(1000))
    } else {
      expect(report.train.perClass).toEqual(new Array(10).fill(6))
    }

    const folder = registry.datasetDir('fashion-mnist')
    const descriptor = descriptorSchema.parse(
      JSON.parse(await readFile(join(folder, 'dataset.json'), 'utf8'))
    )
    expect(descriptor.files).toHaveLength(4)
    for (const file of descriptor.files) {
      const bytes = await readFile(join(folder, file.file))
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256)
      expect(bytes.length).toBe(file.bytes)
    }
  })

  it('imports generated gzip Fashion-MNIST-style files under another name', async () => {
    const path = await writeIdxFolder(join(dir, 'fashion-small'), { gzip: true, trainCount: 40 })
    const info = await importDataset(registry, path, { name: 'fashion-small', title: 'Small' })
    expect(info).toMatchObject({ name: 'fashion-small', title: 'Small', trainCount: 40 })
    expect(info.classes).toEqual(FASHION_MNIST_CLASSES)
    const files = await readdir(registry.datasetDir('fashion-small'))
    expect(files.sort()).toEqual([
      'dataset.json',
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz'
    ])
  })

  it('keeps the existing copy when a replacing import fails, and leaves no temp folders', async () => {
    const good = await writeIdxFolder(join(dir, 'good'), { trainCount: 20 })
    await importDataset(registry, good, { name: 'digits' })
    const bad = await writeIdxFolder(join(dir, 'bad'), { trainCount: 40 })
    const labels = await readFile(join(bad, 'train-labels-idx1-ubyte'))
    await writeFile(join(bad, 'train-labels-idx1-ubyte'), labels.subarray(0, labels.length - 5))

    const err = await importDataset(registry, bad, { name: 'digits' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkbenchError)
    expect((err as WorkbenchError).code).toBe('DATASET_ERROR')
    expect((err as WorkbenchError).message).toMatch(/train-labels-idx1-ubyte is truncated/)

    expect((await registry.inspect('digits')).train.count).toBe(20)
    const leftovers = (await readdir(registry.datasetsDir)).filter((f) => f.startsWith('.'))
    expect(leftovers).toEqual([])
  })

  it('replaces an older copy and drops the cached one', async () => {
    await importDataset(registry, await writeIdxFolder(join(dir, 'v1'), { trainCount: 10 }), {
      name: 'swap'
    })
    expect((await registry.inspect('swap')).train.count).toBe(10)
    await importDataset(registry, await writeIdxFolder(join(dir, 'v2'), { trainCount: 50 }), {
      name: 'swap'
    })
    expect((await registry.inspect('swap')).train.count).toBe(50)
    expect((await registry.list()).map((i) => i.name)).toContain('swap')
  })

  it('imports a CIFAR-10 archive as the cifar-10 dataset', async () => {
    const archive = await writeCifarArchive(join(dir, 'cifar-10-binary.tar.gz'), 2)
    const info = await importDataset(registry, archive)
    expect(info).toMatchObject({ name: 'cifar-10', trainCount: 10, testCount: 2 })
    const listed = (await registry.list()).find((i) => i.name === 'cifar-10')
    expect(listed).toMatchObject({ available: true, title: 'CIFAR-10 small colour photos' })
    expect((await registry.load('cifar10')).shape).toEqual([3, 32, 32])
  })

  it('refuses unsafe or reserved names', async () => {
    const folder = await writeIdxFolder(join(dir, 'names'))
    for (const name of ['../evil', 'mnist', 'A B']) {
      const err = await importDataset(registry, folder, { name }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(WorkbenchError)
      expect((err as WorkbenchError).code).toBe('BAD_REQUEST')
    }
  })

  it('refuses a folder whose labels do not fit its classes', async () => {
    const folder = await writeIdxFolder(join(dir, 'fashion-broken'))
    await writeFile(
      join(folder, 't10k-labels-idx1-ubyte'),
      makeIdx([10], new Uint8Array(10).fill(12))
    )
    const err = await importDataset(registry, folder, { name: 'broken' }).catch((e: unknown) => e)
    expect((err as WorkbenchError).message).toMatch(/t10k-labels-idx1-ubyte has label 12/)
    expect(existsSync(registry.datasetDir('broken'))).toBe(false)
  })
})
