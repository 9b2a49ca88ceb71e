import { open } from 'node:fs/promises'
import { constants as zlibConstants, gunzipSync } from 'node:zlib'
import type { DatasetSource } from './types'

/** Bytes of an IDX header with up to 5 dimensions. */
const IDX_HEADER_MAX_BYTES = 24
/** Compressed bytes read to find a gzipped header (a deflate block yields far more). */
const GZIP_PROBE_BYTES = 64 * 1024
const CIFAR_SHAPE: [number, number, number] = [3, 32, 32]

/** The first `bytes` of a file, gunzipped when it is gzip-compressed (from its first block). */
async function readHead(path: string, bytes: number): Promise<Buffer> {
  const file = await open(path, 'r')
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(GZIP_PROBE_BYTES), 0, GZIP_PROBE_BYTES, 0)
    const start = buffer.subarray(0, bytesRead)
    if (start[0] !== 0x1f || start[1] !== 0x8b) return start.subarray(0, bytes)
    // A cut-off gzip stream still yields what it holds with a sync flush.
    return gunzipSync(start, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, bytes)
  } finally {
    await file.close()
  }
}

/**
 * A source's image shape [channels, height, width] from its headers alone (a few bytes), so the
 * main process can check a model against it before creating a run folder. Null when a header
 * cannot be read: loading the dataset then says what is wrong with the file.
 */
export async function sourceImageShape(source: DatasetSource): Promise<[number, number, number] | null> {
  if (source.kind === 'cifar10') return CIFAR_SHAPE
  let head: Buffer
  try {
    head = await readHead(source.trainImages, IDX_HEADER_MAX_BYTES)
  } catch {
    return null
  }
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return null
  const ndims = head[3]
  if ((ndims !== 3 && ndims !== 4) || head.length < 4 + 4 * ndims) return null
  const dims = Array.from({ length: ndims }, (_, i) => head.readUInt32BE(4 + 4 * i))
  return [ndims === 4 ? dims[3] : 1, dims[1], dims[2]]
}
