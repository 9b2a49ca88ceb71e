import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export { seededRandom } from '../../../shared/random'

/** Builds an unsigned-byte IDX buffer with the given dims and data. */
export function makeIdx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length)
  header[2] = 0x08
  header[3] = dims.length
  dims.forEach((dim, i) => header.writeUInt32BE(dim, 4 + 4 * i))
  return Buffer.concat([header, data])
}

/** Images whose pixels encode their index and label, so tests can check where bytes went. */
export function makeImages(count: number, height: number, width: number, labels: Uint8Array) {
  const data = new Uint8Array(count * height * width)
  for (let i = 0; i < count; i++) {
    const base = i * height * width
    data[base] = labels[i]
    data[base + 1] = i & 0xff
    for (let p = 2; p < height * width; p++) data[base + p] = (p * 7 + i) & 0xff
  }
  return data
}

/** Options for a generated IDX dataset folder. */
export interface IdxFixtureOptions {
  trainCount?: number
  testCount?: number
  height?: number
  width?: number
  classCount?: number
  gzip?: boolean
}

/** Writes an MNIST-style folder of IDX files (optionally gzipped) with labels i % classCount. */
export async function writeIdxFolder(dir: string, options: IdxFixtureOptions = {}) {
  const { trainCount = 30, testCount = 10, height = 28, width = 28, classCount = 10 } = options
  const suffix = options.gzip ? '.gz' : ''
  await mkdir(dir, { recursive: true })
  const write = async (name: string, buf: Buffer) =>
    writeFile(join(dir, name + suffix), options.gzip ? gzipSync(buf) : buf)
  for (const [prefix, count] of [
    ['train', trainCount],
    ['t10k', testCount]
  ] as const) {
    const labels = Uint8Array.from({ length: count }, (_, i) => i % classCount)
    await write(`${prefix}-labels-idx1-ubyte`, makeIdx([count], labels))
    const images = makeImages(count, height, width, labels)
    await write(`${prefix}-images-idx3-ubyte`, makeIdx([count, height, width], images))
  }
  return dir
}

/** One CIFAR-10 binary batch: record i has label i % 10 and channel planes filled with c*50+i. */
export function makeCifarBatch(count: number, labelOffset = 0): Buffer {
  const record = 1 + 3072
  const buf = Buffer.alloc(count * record)
  for (let i = 0; i < count; i++) {
    const base = i * record
    buf[base] = (i + labelOffset) % 10
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) buf[base + 1 + c * 1024 + p] = (c * 50 + i + p) & 0xff
    }
  }
  return buf
}

/** A tar member for makeTar. */
export interface TarMember {
  name: string
  data?: Buffer
  /** '0' regular file (default), '5' directory, '2' symlink, and so on. */
  type?: string
}

/** Builds a ustar archive in memory. */
export function makeTar(members: TarMember[]): Buffer {
  const blocks: Buffer[] = []
  for (const member of members) {
    const data = member.data ?? Buffer.alloc(0)
    const header = Buffer.alloc(512)
    header.write(member.name, 0, 100, 'utf8')
    header.write('0000644\0', 100, 'ascii')
    header.write('0000000\0', 108, 'ascii')
    header.write('0000000\0', 116, 'ascii')
    header.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii')
    header.write('00000000000\0', 136, 'ascii')
    header.write('        ', 148, 'ascii')
    header.write(member.type ?? '0', 156, 'ascii')
    header.write('ustar\0', 257, 'ascii')
    header.write('00', 263, 'ascii')
    let sum = 0
    for (const byte of header) sum += byte
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii')
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

/** The six CIFAR-10 batch names with `count` records each, as [name, bytes] pairs. */
export function makeCifarFiles(count: number): [string, Buffer][] {
  const names = [1, 2, 3, 4, 5].map((n) => `data_batch_${n}.bin`).concat('test_batch.bin')
  return names.map((name, i) => [name, makeCifarBatch(count, i)])
}

/** Writes a cifar-10-binary.tar.gz like the official one, with small batches. */
export async function writeCifarArchive(path: string, count: number, extra: TarMember[] = []) {
  const members: TarMember[] = [{ name: 'cifar-10-batches-bin/', type: '5' }]
  for (const [name, data] of makeCifarFiles(count)) {
    members.push({ name: `cifar-10-batches-bin/${name}`, data })
  }
  members.push({ name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('airplane\n') })
  await writeFile(path, gzipSync(makeTar([...members, ...extra])))
  return path
}

/** Writes the six CIFAR-10 .bin files into a folder. */
export async function writeCifarFolder(dir: string, count: number) {
  await mkdir(dir, { recursive: true })
  for (const [name, data] of makeCifarFiles(count)) await writeFile(join(dir, name), data)
  return dir
}
