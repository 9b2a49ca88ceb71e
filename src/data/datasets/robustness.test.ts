import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../../shared/contract/errors'
import { cifarBatchesFromTar, parseCifarBatches } from './cifar'
import { parseIdx, readIdx } from './idx'
import { DatasetRegistry } from './registry'
import { readTar } from './tar'
import {
  makeCifarBatch,
  makeCifarFiles,
  makeIdx,
  makeImages,
  makeTar,
  seededRandom,
  writeCifarArchive,
  writeCifarFolder,
  writeIdxFolder
} from './testing/fixtures'

const FUZZ_CASES = 300
/**
 * Fuzz tests end by their timeout if an input makes a parser stall; no wall-clock assertion, as
 * timed tests flake on a loaded machine (speed is the bench's job).
 */
const FUZZ_TIMEOUT_MS = 60_000

let dir: string
let registry: DatasetRegistry
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'robust-test-'))
  registry = new DatasetRegistry({ dataDir: join(dir, 'data') })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs fn; passes if it returns, or throws a DATASET_ERROR whose message names the file. */
async function expectCleanOutcome(fileName: string, fn: () => unknown): Promise<'ok' | 'error'> {
  try {
    await fn()
    return 'ok'
  } catch (err) {
    if (!(err instanceof WorkbenchError)) {
      throw new Error(`${fileName}: expected a WorkbenchError, got ${String(err)}`)
    }
    expect(err.code).toBe('DATASET_ERROR')
    expect(err.message).toContain(fileName)
    return 'error'
  }
}

async function expectDatasetError(promise: Promise<unknown>, fileName: string, problem: RegExp) {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  expect((err as WorkbenchError).code).toBe('DATASET_ERROR')
  expect((err as WorkbenchError).message).toContain(fileName)
  expect((err as WorkbenchError).message).toMatch(problem)
}

function mutate(source: Uint8Array, random: () => number): Buffer {
  let buf = Buffer.from(source)
  const action = Math.floor(random() * 4)
  if (action === 0) {
    buf = buf.subarray(0, Math.floor(random() * buf.length))
  } else if (action === 1) {
    buf = Buffer.concat([buf, Buffer.alloc(1 + Math.floor(random() * 600), random() * 256)])
  }
  const flips = 1 + Math.floor(random() * 4)
  for (let i = 0; i < flips && buf.length > 0; i++) {
    // Favour the header, where a flip changes the meaning of everything after it.
    const span = random() < 0.6 ? Math.min(buf.length, 24) : buf.length
    buf[Math.floor(random() * span)] = Math.floor(random() * 256)
  }
  return buf
}

function randomBuffer(random: () => number): Buffer {
  const buf = Buffer.alloc(Math.floor(random() * 700))
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(random() * 256)
  if (buf.length >= 4 && random() < 0.5) buf.set([0, 0, 8, 1 + Math.floor(random() * 4)])
  return buf
}

describe('broken dataset folders', () => {
  const cases: [string, (folder: string) => Promise<void>, string, RegExp][] = [
    [
      'wrong magic',
      async (f) => writeFile(join(f, 'train-images-idx3-ubyte'), Buffer.from('PK\x03\x04junk')),
      'train-images-idx3-ubyte',
      /wrong magic number/
    ],
    [
      'truncated images',
      async (f) => {
        const buf = await readFile(join(f, 't10k-images-idx3-ubyte'))
        await writeFile(join(f, 't10k-images-idx3-ubyte'), buf.subarray(0, 1000))
      },
      't10k-images-idx3-ubyte',
      /truncated.*declares 7856 bytes.*has 1000/
    ],
    [
      'label count differs from image count',
      async (f) => writeFile(join(f, 't10k-labels-idx1-ubyte'), makeIdx([9], new Uint8Array(9))),
      't10k-labels-idx1-ubyte',
      /has 9 labels but t10k-images-idx3-ubyte has 10 images/
    ],
    [
      'label out of range',
      async (f) => {
        const labels = Uint8Array.from({ length: 30 }, (_, i) => (i === 17 ? 200 : 0))
        await writeFile(join(f, 'train-labels-idx1-ubyte'), makeIdx([30], labels))
      },
      'train-labels-idx1-ubyte',
      /label 200 at position 17/
    ],
    [
      'declared size far larger than the file',
      async (f) => {
        const header = makeIdx([0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(64))
        await writeFile(join(f, 'train-images-idx3-ubyte'), header)
      },
      'train-images-idx3-ubyte',
      /truncated/
    ],
    [
      'gzip with damaged stream',
      async (f) => {
        const gz = gzipSync(await readFile(join(f, 'train-images-idx3-ubyte')))
        gz[gz.length - 6] ^= 0xff
        await writeFile(join(f, 'train-images-idx3-ubyte'), gz)
      },
      'train-images-idx3-ubyte',
      /damaged gzip/
    ]
  ]
  let n = 0
  for (const [title, breakIt, fileName, problem] of cases) {
    it(`reports ${title}, naming ${fileName}`, async () => {
      // "fashion" in the name fixes the classes at 10 instead of inferring them from labels.
      const folder = await writeIdxFolder(join(dir, `fashion-broken-${n++}`))
      await breakIt(folder)
      await expectDatasetError(registry.load(folder), fileName, problem)
    })
  }

  it('loads an archive with unexpected members but refuses one that escapes its folder', async () => {
    const ok = await writeCifarArchive(join(dir, 'extra.tar.gz'), 1, [
      { name: 'cifar-10-batches-bin/evil-link', type: '2' },
      { name: 'readme.txt', data: Buffer.from('hello') }
    ])
    expect((await registry.load(ok)).train.count).toBe(5)
    const bad = await writeCifarArchive(join(dir, 'escape.tar.gz'), 1, [
      { name: '../../outside.bin', data: Buffer.from('x') }
    ])
    await expectDatasetError(registry.load(bad), 'escape.tar.gz', /unsafe member path/)
  })

  it('refuses a generic IDX folder whose labels imply an absurd number of classes', async () => {
    const folder = await writeIdxFolder(join(dir, 'generic'))
    const labels = Uint8Array.from({ length: 30 }, (_, i) => (i === 3 ? 250 : 0))
    await writeFile(join(folder, 'train-labels-idx1-ubyte'), makeIdx([30], labels))
    await expectDatasetError(registry.load(folder), 'train-labels-idx1-ubyte', /label 250/)
  })

  it('names the archive when a required batch is missing', async () => {
    const files = makeCifarFiles(1).filter(([name]) => name !== 'test_batch.bin')
    const path = join(dir, 'partial.tar.gz')
    await writeFile(path, gzipSync(makeTar(files.map(([name, data]) => ({ name, data })))))
    await expectDatasetError(registry.load(path), 'partial.tar.gz', /lacks test_batch\.bin/)
  })

  it('reports a truncated CIFAR batch among extracted files', async () => {
    const folder = await writeCifarFolder(join(dir, 'cifar-cut'), 2)
    await writeFile(join(folder, 'data_batch_4.bin'), makeCifarBatch(2).subarray(0, 4000))
    await expectDatasetError(registry.load(folder), 'data_batch_4.bin', /not a whole number/)
  })
})

describe('fuzzing (seeded)', () => {
  it('parseIdx survives random and mutated buffers', { timeout: FUZZ_TIMEOUT_MS }, async () => {
    const random = seededRandom(1234)
    const labels = Uint8Array.from({ length: 5 }, (_, i) => i)
    const valid = [makeIdx([5], labels), makeIdx([5, 4, 4], makeImages(5, 4, 4, labels))]
    const outcomes = { ok: 0, error: 0 }
    for (let i = 0; i < FUZZ_CASES; i++) {
      const buf = i % 3 === 0 ? randomBuffer(random) : mutate(valid[i % 2], random)
      outcomes[await expectCleanOutcome(`case-${i}.idx`, () => parseIdx(buf, `case-${i}.idx`))]++
    }
    expect(outcomes.error).toBeGreaterThan(FUZZ_CASES / 3)
  })

  it(
    'readIdx survives mutated raw and gzip files on disk',
    { timeout: FUZZ_TIMEOUT_MS },
    async () => {
      const random = seededRandom(99)
      const labels = Uint8Array.from({ length: 20 }, (_, i) => i % 10)
      const raw = makeIdx([20, 8, 8], makeImages(20, 8, 8, labels))
      const gz = gzipSync(raw)
      for (let i = 0; i < 120; i++) {
        const name = `fuzz-${i}-idx3-ubyte`
        const path = join(dir, name)
        await writeFile(path, i % 2 === 0 ? mutate(raw, random) : mutate(gz, random))
        await expectCleanOutcome(name, () => readIdx(path, { maxBytes: 1024 * 1024 }))
      }
    }
  )

  it(
    'the tar reader and CIFAR parser survive random and mutated archives',
    { timeout: FUZZ_TIMEOUT_MS },
    async () => {
      const random = seededRandom(7)
      const members = makeCifarFiles(1).map(([name, data]) => ({ name: `c/${name}`, data }))
      const tar = makeTar([{ name: 'c/', type: '5' }, ...members])
      const outcomes = { ok: 0, error: 0 }
      for (let i = 0; i < FUZZ_CASES; i++) {
        const label = `fuzz-${i}.tar`
        const buf = i % 4 === 0 ? randomBuffer(random) : mutate(tar, random)
        outcomes[
          await expectCleanOutcome(label, () => {
            readTar(buf, label)
            const { train, test } = cifarBatchesFromTar(buf, label)
            parseCifarBatches([...train, ...test])
          })
        ]++
      }
      expect(outcomes.error).toBeGreaterThan(FUZZ_CASES / 4)
    }
  )

  it('CIFAR batches with random lengths and labels fail cleanly', async () => {
    const random = seededRandom(42)
    const batch = makeCifarBatch(3)
    for (let i = 0; i < FUZZ_CASES; i++) {
      const label = `batch-${i}.bin`
      const data = mutate(batch, random)
      await expectCleanOutcome(label, () => parseCifarBatches([{ label, data }]))
    }
  })
})
