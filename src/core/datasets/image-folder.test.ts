import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../../shared/contract/errors'
import type { DatasetProgress } from '../../shared/contract/datasets'
import { importResultSchema } from '../../shared/contract/datasets'
import { DatasetService } from '../services/dataset-service'
import { decodeImage, toChannels } from './image-decode'
import { importImageFolder, isImageFolder } from './image-folder'
import { DatasetRegistry } from '../../data/datasets/registry'
import { seededRandom } from '../../data/datasets/testing/fixtures'
import { jpegBytes, pngBytes, writeImageFolder } from './testing/images'

let dir: string
let registry: DatasetRegistry
let service: DatasetService
const progress: DatasetProgress[] = []
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-folder-test-'))
  registry = new DatasetRegistry({ dataDir: join(dir, 'data') })
  service = new DatasetService({
    registry,
    emit: (channel, payload) => {
      if (channel === 'datasets:progress') progress.push(payload as DatasetProgress)
    }
  })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Expects a DATASET_ERROR (or the given code) whose message matches. */
async function expectError(p: Promise<unknown>, message: RegExp, code = 'DATASET_ERROR') {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  expect((err as WorkbenchError).code).toBe(code)
  expect((err as WorkbenchError).message).toMatch(message)
}

describe('import of a folder of class folders', () => {
  it('imports PNGs and JPEGs through the service: stratified 20 % test split, 28×28 grey', async () => {
    const folder = await writeImageFolder(join(dir, 'Pets'), {
      perClass: { cat: 10, dog: 15, fox: 5 },
      extraFiles: 2
    })
    expect(await service.probe(folder)).toEqual({ kind: 'images' })
    const result = await service.importPath(folder)
    importResultSchema.parse(result)
    expect(result).toMatchObject({
      name: 'pets',
      title: 'Pets',
      shape: [1, 28, 28],
      classes: ['cat', 'dog', 'fox'],
      trainCount: 24,
      testCount: 6,
      source: 'imported',
      skippedFiles: 6
    })
    const inspection = await service.inspect('pets')
    expect(inspection.train.perClass).toEqual([8, 12, 4])
    expect(inspection.test.perClass).toEqual([2, 3, 1])
    const loaded = await registry.load('pets')
    expect(loaded.train.images.length).toBe(24 * 28 * 28)
    // Progress told how many images were decoded, ending at all of them.
    expect(progress.at(-1)).toMatchObject({ phase: 'import', fileIndex: 30, fileCount: 30 })
  })

  it('keeps colour at 16×16 when asked, and the class colour survives resizing', async () => {
    const folder = await writeImageFolder(join(dir, 'colour'), { perClass: { a: 4, b: 4 } })
    const result = await service.importPath(folder, 'colour', { color: 'rgb', imageSize: 16 })
    expect(result).toMatchObject({ shape: [3, 16, 16], trainCount: 6, testCount: 2 })
    const ds = await registry.load('colour')
    for (let i = 0; i < ds.train.count; i++) {
      const blue = ds.train.images[i * 16 * 16 * 3 + 2]
      // classImage writes blue = class × 40 everywhere; JPEG may shift it a little.
      expect(Math.abs(blue - ds.train.labels[i] * 40)).toBeLessThan(12)
    }
  })

  it('uses train/ and test/ when the folder has them, and the same split on every import', async () => {
    const folder = await writeImageFolder(join(dir, 'split'), {
      perClass: { x: 6, y: 4 },
      testPerClass: 3
    })
    const r = await importImageFolder(registry, folder, { name: 'split' })
    expect(r.info).toMatchObject({ classes: ['x', 'y'], trainCount: 10, testCount: 6 })
    expect((await registry.inspect('split')).test.perClass).toEqual([3, 3])

    const pets = join(dir, 'Pets')
    await importImageFolder(registry, pets, { name: 'again', testFraction: 0.2 })
    const a = await readFile(join(registry.datasetDir('pets'), 't10k-labels-idx1-ubyte'))
    const b = await readFile(join(registry.datasetDir('again'), 't10k-labels-idx1-ubyte'))
    expect(b.equals(a)).toBe(true)
  })

  it('holds out round(n × fraction) of each class: 0.5 of 10, 15 and 5 images', async () => {
    const r = await importImageFolder(registry, join(dir, 'Pets'), {
      name: 'half',
      testFraction: 0.5
    })
    expect(r.info).toMatchObject({ trainCount: 14, testCount: 16 })
    expect((await registry.inspect('half')).test.perClass).toEqual([5, 8, 3])
  })

  it('is not taken for an image folder when it holds IDX files or nothing', async () => {
    await mkdir(join(dir, 'empty'), { recursive: true })
    expect(await isImageFolder(join(dir, 'empty'))).toBe(false)
    expect(await isImageFolder(join(dir, 'missing'))).toBe(false)
    expect(await service.probe(join(dir, 'empty'))).toEqual({ kind: 'files' })
  })
})

describe('bad image folders fail naming the problem and leave the cache intact', () => {
  /** A folder named after the case, with two good classes, then `change` applied. */
  async function badFolder(name: string, change: (folder: string) => Promise<void>) {
    const folder = await writeImageFolder(join(dir, 'bad', name), { perClass: { a: 3, b: 3 } })
    await change(folder)
    return folder
  }
  const imported = async () => (await registry.inspect('pets')).train.perClass

  it.each([
    [
      'corrupt PNG',
      (f: string) => writeFile(join(f, 'a', '0.png'), pngBytes(20, 20).subarray(0, 60)),
      /a\/0\.png .*(damaged|decoded)/
    ],
    [
      'text in a .jpg',
      (f: string) => writeFile(join(f, 'b', 'fake.jpg'), 'hello'),
      /b\/fake\.jpg is not a PNG or JPEG/
    ],
    [
      'a GIF',
      (f: string) => writeFile(join(f, 'a', 'anim.gif'), 'GIF89a'),
      /a\/anim\.gif is a GIF image; only PNG and JPEG/
    ],
    [
      'an empty class folder',
      (f: string) => mkdir(join(f, 'c')),
      /Class folder c .*has no PNG or JPEG images/
    ],
    [
      'a single class',
      (f: string) => rm(join(f, 'b'), { recursive: true }),
      /only one class folder \(a\)/
    ],
    [
      'a huge image (refused from its header, before decoding)',
      async (f: string) => {
        const png = pngBytes(8, 8)
        png.writeUInt32BE(60_000, 16)
        png.writeUInt32BE(60_000, 20)
        await writeFile(join(f, 'b', 'huge.png'), png)
      },
      /b\/huge\.png is 60000×60000 pixels, more than/
    ],
    [
      'a test class that train lacks',
      async (f: string) => {
        await writeImageFolder(join(f, 'train'), { perClass: { a: 2, b: 2 } })
        await writeImageFolder(join(f, 'test'), { perClass: { a: 1, z: 1 } })
      },
      /test\/z .*train\/ does not have/
    ]
  ])('%s', async (name, change, message) => {
    const before = await imported()
    const folder = await badFolder(name.replace(/\W+/g, '-'), change)
    // Replacing on purpose: the import must still fail on the bad folder and keep the old data.
    await expectError(service.importPath(folder, 'pets', { replace: true }), message)
    expect(await imported()).toEqual(before)
  })

  it('refuses to replace an existing dataset unless asked, and keeps it', async () => {
    const before = await imported()
    await expectError(service.importPath(join(dir, 'Pets'), 'pets'), /already|exists/i, 'BAD_REQUEST')
    expect(await imported()).toEqual(before)
  })

  it('refuses impossible sizes, fractions and names before reading any image', async () => {
    const folder = join(dir, 'Pets')
    await expectError(
      importImageFolder(registry, folder, { imageSize: 2 }),
      /from 4 to 256/,
      'BAD_REQUEST'
    )
    await expectError(
      importImageFolder(registry, folder, { testFraction: 1 }),
      /between 0 and 1/,
      'BAD_REQUEST'
    )
    await expectError(
      importImageFolder(registry, folder, { name: 'mnist' }),
      /cannot be a dataset name/,
      'BAD_REQUEST'
    )
  })

  it('stops on cancel with CANCELLED and changes nothing', async () => {
    const before = await imported()
    const controller = new AbortController()
    const run = importImageFolder(registry, join(dir, 'Pets'), {
      name: 'pets',
      replace: true,
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 3) controller.abort()
      }
    })
    await expectError(run, /cancelled/, 'CANCELLED')
    expect(await imported()).toEqual(before)
  })

  it('resizes images of mixed sizes, including 1×1 and very wide ones', () => {
    for (const [w, h] of [
      [1, 1],
      [300, 3],
      [7, 90]
    ]) {
      const img = decodeImage(pngBytes(w, h, 2), 'x.png')
      expect(toChannels(img, 28, 1).length).toBe(28 * 28)
      expect(toChannels(img, 32, 3).length).toBe(32 * 32 * 3)
    }
  })
})

describe('decodeImage formats', () => {
  it.each([
    ['grey 8-bit', { colorType: 0 }],
    ['grey + alpha', { colorType: 4 }],
    ['RGB without alpha', { colorType: 2 }]
  ] as const)('reads a %s PNG as RGBA', (_name, options) => {
    const png = new PNG({ width: 5, height: 3 })
    for (let i = 0; i < 15; i++) png.data.set([200, 100, 50, 255], i * 4)
    const img = decodeImage(PNG.sync.write(png, options), 'x.png')
    expect([img.width, img.height, img.data.length]).toEqual([5, 3, 60])
    expect(img.data[3]).toBe(255)
    // Grey PNGs keep one level for all three channels.
    if (options.colorType !== 2) expect(img.data[0]).toBe(img.data[2])
    else expect(Array.from(img.data.subarray(0, 3))).toEqual([200, 100, 50])
  })

  it('blends transparency over black when converting to grey', () => {
    const png = new PNG({ width: 2, height: 2 })
    for (let i = 0; i < 4; i++) png.data.set([255, 255, 255, i < 2 ? 255 : 0], i * 4)
    const grey = toChannels(decodeImage(PNG.sync.write(png), 't.png'), 2, 1)
    expect(Array.from(grey)).toEqual([255, 255, 0, 0])
  })
})

describe('decodeImage fuzz', () => {
  // No wall-clock assertion (timed tests flake under load): a decoder stall runs into the timeout.
  it(
    'turns a few hundred mutated PNGs and JPEGs into images or DATASET_ERRORs',
    { timeout: 60_000 },
    () => {
      const random = seededRandom(20261124)
      const seeds = [
        pngBytes(24, 17, 1, 3),
        jpegBytes(24, 17, 2, 5),
        pngBytes(3, 40),
        jpegBytes(64, 9)
      ]
      let errors = 0
      for (let round = 0; round < 400; round++) {
        const bytes = Buffer.from(seeds[round % seeds.length])
        const kind = round % 4
        let input: Buffer = bytes
        if (kind === 0) {
          for (let m = 0; m < 1 + Math.floor(random() * 8); m++) {
            bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256)
          }
        } else if (kind === 1) {
          input = bytes.subarray(0, Math.floor(random() * bytes.length))
        } else if (kind === 2) {
          // Mutate the header, where sizes and table lengths live.
          const at = Math.floor(random() * Math.min(40, bytes.length))
          bytes[at] = Math.floor(random() * 256)
        } else {
          const at = Math.floor(random() * bytes.length)
          input = Buffer.concat([
            bytes.subarray(0, at),
            Buffer.from([0xff, random() * 256]),
            bytes.subarray(at)
          ])
        }
        try {
          const img = decodeImage(input, `case-${round}`)
          expect(img.data.length).toBe(img.width * img.height * 4)
        } catch (err) {
          errors++
          expect(err).toBeInstanceOf(WorkbenchError)
          expect((err as WorkbenchError).code).toBe('DATASET_ERROR')
          expect((err as WorkbenchError).message).toContain(`case-${round}`)
        }
      }
      expect(errors).toBeGreaterThan(100)
    }
  )
})
