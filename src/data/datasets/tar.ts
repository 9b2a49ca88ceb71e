import { WorkbenchError } from '../../shared/contract/errors'

const TAR_BLOCK_BYTES = 512
const TYPE_REGULAR = new Set(['0', '\0', '7'])
const TYPE_GNU_LONG_NAME = 'L'

/** A regular file inside a tar archive; `data` is a view into the archive buffer. */
export interface TarEntry {
  name: string
  data: Uint8Array
}

function fail(message: string): never {
  throw new WorkbenchError('DATASET_ERROR', message)
}

function readString(block: Uint8Array, start: number, length: number): string {
  let end = start
  while (end < start + length && block[end] !== 0) end++
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString('utf8')
}

function readOctal(block: Uint8Array, start: number, length: number, what: string, label: string) {
  if (block[start] & 0x80) {
    fail(`${label}: a tar header stores ${what} in binary form, too large for a dataset archive.`)
  }
  const text = readString(block, start, length).trim()
  if (!/^[0-7]*$/.test(text))
    fail(`${label} is not a tar archive or is damaged (bad ${what} field).`)
  return text === '' ? 0 : parseInt(text, 8)
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false
  return true
}

function checksumMatches(block: Uint8Array, label: string): boolean {
  const stored = readOctal(block, 148, 8, 'checksum', label)
  let sum = 0
  for (let i = 0; i < TAR_BLOCK_BYTES; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]
  return sum === stored
}

/** True when the buffer starts with a ustar (POSIX or GNU) tar header. */
export function looksLikeTar(buffer: Uint8Array): boolean {
  if (buffer.length < TAR_BLOCK_BYTES) return false
  return readString(buffer, 257, 5) === 'ustar'
}

function checkSafePath(name: string, label: string): void {
  const segments = name.split(/[\\/]+/)
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || segments.includes('..')) {
    fail(`${label} contains an unsafe member path "${name}". The archive was refused.`)
  }
}

/**
 * Lists the regular files of an uncompressed tar archive. Other member types (folders, links,
 * pax headers) are skipped; absolute paths and ".." segments are refused.
 */
export function readTar(buffer: Uint8Array, label: string): TarEntry[] {
  const entries: TarEntry[] = []
  let offset = 0
  let longName: string | null = null
  while (offset + TAR_BLOCK_BYTES <= buffer.length) {
    const block = buffer.subarray(offset, offset + TAR_BLOCK_BYTES)
    if (isZeroBlock(block)) break
    if (!checksumMatches(block, label)) {
      fail(`${label} is not a tar archive or is damaged (bad header at byte ${offset}).`)
    }
    const size = readOctal(block, 124, 12, 'size', label)
    const dataStart = offset + TAR_BLOCK_BYTES
    let name = readString(block, 0, 100)
    const prefix = readString(block, 345, 155)
    if (readString(block, 257, 6) === 'ustar' && prefix) name = `${prefix}/${name}`
    if (dataStart + size > buffer.length) {
      fail(
        `${label} is truncated: member "${name}" declares ${size} bytes but only ` +
          `${Math.max(0, buffer.length - dataStart)} remain. Download the archive again.`
      )
    }
    const type = String.fromCharCode(block[156])
    const data = buffer.subarray(dataStart, dataStart + size)
    if (type === TYPE_GNU_LONG_NAME) {
      longName = readString(data, 0, data.length)
    } else {
      if (longName !== null) name = longName
      longName = null
      if (TYPE_REGULAR.has(type)) {
        checkSafePath(name, label)
        entries.push({ name, data })
      }
    }
    offset = dataStart + Math.ceil(size / TAR_BLOCK_BYTES) * TAR_BLOCK_BYTES
  }
  if (entries.length === 0 && offset === 0) {
    fail(`${label} is not a tar archive or is empty. Use the official cifar-10-binary.tar.gz.`)
  }
  return entries
}
