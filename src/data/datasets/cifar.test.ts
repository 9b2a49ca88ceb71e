import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../../shared/contract/errors'
import {
  CIFAR10_CLASSES,
  CIFAR_RECORD_BYTES,
  cifarBatchesFromTar,
  loadCifarDataset,
  parseCifarBatches
} from './cifar'
import { readTar } from './tar'
import {
  makeCifarBatch,
  makeCifarFiles,
  makeTar,
  writeCifarArchive,
  writeCifarFolder
} from './testing/fixtures'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cifar-test-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function folderSource(folder: string) {
  return {
    kind: 'cifar10' as const,
    name: 'cifar-10',
    classes: CIFAR10_CLASSES,
    trainFiles: [1, 2, 3, 4, 5].map((n) => join(folder, `data_batch_${n}.bin`)),
    testFiles: [join(folder, 'test_batch.bin')]
  }
}

describe('parseCifarBatches', () => {
  it('turns planar R,G,B records into interleaved NHWC pixels', () => {
    const split = parseCifarBatches([{ label: 'b.bin', data: makeCifarBatch(3) }])
    expect(split.count).toBe(3)
    expect(Array.from(split.labels)).toEqual([0, 1, 2])
    // record 2, pixel 5: R = 0*50+2+5, G = 50+2+5, B = 100+2+5
    const at = 2 * 3072 + 5 * 3
    expect(Array.from(split.images.subarray(at, at + 3))).toEqual([7, 57, 107])
  })

  it('requires the file size to be a multiple of the record length', () => {
    const data = makeCifarBatch(2).subarray(0, CIFAR_RECORD_BYTES + 100)
    expect(() => parseCifarBatches([{ label: 'data_batch_1.bin', data }])).toThrow(
      /data_batch_1\.bin has 3173 bytes, not a whole number of 3073-byte/
    )
  })

  it('rejects labels of 10 or more', () => {
    const data = makeCifarBatch(2)
    data[CIFAR_RECORD_BYTES] = 10
    expect(() => parseCifarBatches([{ label: 'x.bin', data }])).toThrow(
      /x\.bin has label 10 in record 1/
    )
  })
})

describe('readTar', () => {
  it('returns regular files only and skips folders and links', () => {
    const tar = makeTar([
      { name: 'd/', type: '5' },
      { name: 'd/a.bin', data: Buffer.from('abc') },
      { name: 'd/link', type: '2' }
    ])
    const entries = readTar(tar, 't.tar')
    expect(entries.map((e) => e.name)).toEqual(['d/a.bin'])
    expect(Buffer.from(entries[0].data).toString()).toBe('abc')
  })

  it('refuses path traversal and absolute paths', () => {
    for (const name of ['../evil.bin', 'a/../../evil', '/etc/passwd']) {
      const tar = makeTar([{ name, data: Buffer.from('x') }])
      expect(() => readTar(tar, 'bad.tar')).toThrow(/bad\.tar contains an unsafe member path/)
    }
  })

  it('reports a member cut off by a truncated archive', () => {
    const tar = makeTar([{ name: 'a.bin', data: Buffer.alloc(5000) }]).subarray(0, 2048)
    expect(() => readTar(tar, 'cut.tar')).toThrow(/cut\.tar is truncated: member "a\.bin"/)
  })

  it('reports a damaged header', () => {
    const tar = makeTar([{ name: 'a.bin', data: Buffer.alloc(10) }])
    tar[3] ^= 0xff
    expect(() => readTar(tar, 'd.tar')).toThrow(/d\.tar is not a tar archive or is damaged/)
  })
})

describe('loadCifarDataset', () => {
  it('loads extracted .bin files', async () => {
    const folder = await writeCifarFolder(join(dir, 'bins'), 4)
    const ds = await loadCifarDataset(folderSource(folder))
    expect(ds.shape).toEqual([3, 32, 32])
    expect(ds.train.count).toBe(20)
    expect(ds.test.count).toBe(4)
    expect(ds.train.images.length).toBe(20 * 3072)
    // data_batch_2 starts with label offset 1.
    expect(ds.train.labels[4]).toBe(1)
    expect(Array.from(ds.test.labels)).toEqual([5, 6, 7, 8])
  })

  it('loads a cifar-10-binary.tar.gz, ignoring extra members', async () => {
    const archive = await writeCifarArchive(join(dir, 'cifar-10-binary.tar.gz'), 3, [
      { name: 'cifar-10-batches-bin/readme.html', data: Buffer.from('<html>') },
      { name: 'notes/', type: '5' }
    ])
    const ds = await loadCifarDataset({
      kind: 'cifar10',
      name: 'cifar-10',
      classes: CIFAR10_CLASSES,
      trainFiles: [archive],
      testFiles: [archive]
    })
    expect(ds.train.count).toBe(15)
    expect(ds.test.count).toBe(3)
    const fromBins = await loadCifarDataset(
      folderSource(await writeCifarFolder(join(dir, 'b3'), 3))
    )
    expect(Buffer.from(ds.train.images).equals(Buffer.from(fromBins.train.images))).toBe(true)
  })

  it('names the batches an archive lacks', () => {
    const files = makeCifarFiles(1).filter(([name]) => name !== 'data_batch_3.bin')
    const tar = makeTar(
      files.map(([name, data]) => ({ name: `cifar-10-batches-bin/${name}`, data }))
    )
    expect(() => cifarBatchesFromTar(tar, 'c.tar')).toThrow(/c\.tar lacks data_batch_3\.bin/)
  })

  it('names a truncated batch inside the folder', async () => {
    const folder = await writeCifarFolder(join(dir, 'cut'), 2)
    await writeFile(join(folder, 'test_batch.bin'), makeCifarBatch(2).subarray(0, 5000))
    const err = await loadCifarDataset(folderSource(folder)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkbenchError)
    expect((err as WorkbenchError).message).toMatch(/test_batch\.bin has 5000 bytes/)
  })

  it('rejects a gzip file that is not a tar', async () => {
    const path = join(dir, 'fake.tar.gz')
    await writeFile(path, gzipSync(Buffer.from('hello world')))
    const err = await loadCifarDataset({
      ...folderSource(dir),
      trainFiles: [path],
      testFiles: [path]
    })
      .then(() => null)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkbenchError)
    expect((err as WorkbenchError).message).toMatch(/fake\.tar\.gz/)
  })
})
