import { WorkbenchError } from '../contract/errors'

/**
 * The safetensors format, read and written by hand (no pickle, nothing executed): 8 bytes of
 * little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}}` with an
 * optional `__metadata__` string map, then the raw little-endian tensor bytes.
 * https://github.com/huggingface/safetensors#format
 */
export interface NamedTensor {
  name: string
  shape: number[]
  data: Float32Array
}

/** A header larger than this is refused before it is parsed (a real one is a few kB). */
export const MAX_SAFETENSORS_HEADER_BYTES = 10_000_000
const HEADER_LENGTH_BYTES = 8
const BYTES_PER_FLOAT32 = 4
/** Tensors train.py may write that the workbench has no slot for; skipped on import. */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

const invalid = (file: string, message: string, tensor?: string): WorkbenchError =>
  new WorkbenchError('INVALID_MODEL', `${file}: ${message}`, { file, ...(tensor ? { tensor } : {}) })

/** Encodes float32 tensors (and optional string metadata) as one safetensors file. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {}
  let offset = 0
  for (const t of tensors) {
    const bytes = t.data.length * BYTES_PER_FLOAT32
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  if (metadata) header.__metadata__ = metadata
  let json = JSON.stringify(header)
  // Padding to 8 bytes keeps the data aligned, as the reference implementation does.
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8)
  const headerBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(HEADER_LENGTH_BYTES + headerBytes.length + offset)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(headerBytes.length), true)
  out.set(headerBytes, HEADER_LENGTH_BYTES)
  let at = HEADER_LENGTH_BYTES + headerBytes.length
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * BYTES_PER_FLOAT32, t.data[i], true)
    at += t.data.length * BYTES_PER_FLOAT32
  }
  return out
}

/** What a safetensors file holds: float32 tensors by name, the names of others, its metadata. */
export interface DecodedSafetensors {
  tensors: Map<string, NamedTensor>
  /** Tensors in another dtype (e.g. I64 counters), by name and dtype: read only if asked for. */
  otherDtypes: Map<string, string>
  metadata: Record<string, string>
}

/**
 * Decodes a safetensors file, checking everything a hostile or damaged file could get wrong:
 * a pickle/zip file (torch.save), a header length past the end, JSON that is not an object,
 * offsets out of range, overlapping or not matching the shape, and data left over.
 */
export function decodeSafetensors(bytes: Uint8Array, file = 'weights.safetensors'): DecodedSafetensors {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = bytes.length >= HEADER_LENGTH_BYTES ? view.getBigUint64(0, true) : -1n
  const plausible =
    headerLength >= 2n &&
    headerLength <= BigInt(Math.min(MAX_SAFETENSORS_HEADER_BYTES, bytes.length - HEADER_LENGTH_BYTES)) &&
    bytes[HEADER_LENGTH_BYTES] === 0x7b
  // torch.save writes a zip (PK\x03\x04) or a bare pickle (0x80, protocol 2-5): never unpickled here.
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  const pickle = bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5
  if (!plausible && (zip || pickle)) {
    throw invalid(
      file,
      'this is a pickle/zip file (torch.save), which can run code when loaded and is not read. Save the weights with train.py (safetensors).'
    )
  }
  if (bytes.length < HEADER_LENGTH_BYTES) throw invalid(file, `only ${bytes.length} bytes: not a safetensors file.`)
  if (headerLength > BigInt(Math.min(MAX_SAFETENSORS_HEADER_BYTES, bytes.length - HEADER_LENGTH_BYTES))) {
    throw invalid(file, `the header claims ${headerLength} bytes but the file has ${bytes.length}; it is truncated or not safetensors.`)
  }
  const dataStart = HEADER_LENGTH_BYTES + Number(headerLength)
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_LENGTH_BYTES, dataStart)))
  } catch {
    throw invalid(file, 'the header is not valid JSON: not a safetensors file.')
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw invalid(file, 'the header is not a JSON object.')
  const dataLength = bytes.length - dataStart
  const tensors = new Map<string, NamedTensor>()
  const otherDtypes = new Map<string, string>()
  let metadata: Record<string, string> = {}
  const spans: Array<[number, number, string]> = []
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry === 'object' && entry !== null) {
        metadata = Object.fromEntries(Object.entries(entry).filter((e): e is [string, string] => typeof e[1] === 'string'))
      }
      continue
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    const shape = e?.shape
    const offsets = e?.data_offsets
    if (
      typeof e?.dtype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      throw invalid(file, `tensor ${name} has a malformed entry (dtype, shape and data_offsets are needed).`, name)
    }
    const [start, end] = offsets as [number, number]
    const count = (shape as number[]).reduce((a, b) => a * b, 1)
    const width = DTYPE_BYTES[e.dtype]
    if (width === undefined) throw invalid(file, `tensor ${name} has unknown dtype ${e.dtype}.`, name)
    if (start > end || end > dataLength) {
      throw invalid(file, `tensor ${name} claims bytes ${start}–${end} but the data has ${dataLength}: the file is truncated or its header lies.`, name)
    }
    if (end - start !== count * width) {
      throw invalid(file, `tensor ${name} is [${(shape as number[]).join(', ')}] ${e.dtype} (${count * width} bytes) but its offsets span ${end - start}.`, name)
    }
    spans.push([start, end, name])
    if (e.dtype !== 'F32') {
      otherDtypes.set(name, e.dtype)
      continue
    }
    const data = new Float32Array(count)
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + start + i * BYTES_PER_FLOAT32, true)
    tensors.set(name, { name, shape: shape as number[], data })
  }
  spans.sort((a, b) => a[0] - b[0])
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) {
      throw invalid(file, `tensors ${spans[i - 1][2]} and ${spans[i][2]} overlap: the header lies.`, spans[i][2])
    }
  }
  return { tensors, otherDtypes, metadata }
}
