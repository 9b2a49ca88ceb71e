import { describe, expect, it } from 'vitest'
import { WorkbenchError } from '../contract/errors'
import { getPreset } from '../model/presets'
import { expectedWeightShapes } from '../model/weight-shapes'
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors'
import { fromTorchTensors, toTorchTensors } from './torch-layout'

const tensor = (name: string, shape: number[], start = 0): NamedTensor => ({
  name,
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => start + i * 0.5)
})

/** A file with a hand-written header (to make it lie) over `dataBytes` zero bytes. */
function fileWith(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + dataBytes)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  return out
}

function errorOf(fn: () => unknown): WorkbenchError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(WorkbenchError)
    return err as WorkbenchError
  }
  throw new Error('expected an error')
}

describe('safetensors', () => {
  it('round-trips float32 tensors and metadata, little-endian, header padded to 8 bytes', () => {
    const tensors = [tensor('a', [2, 3]), tensor('b.weight', [4], 10), tensor('scalar', [])]
    const bytes = encodeSafetensors(tensors, { epoch: '3' })
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect(headerLength % 8).toBe(0)
    // The first float of `a` sits right after the header, little-endian.
    expect(new DataView(bytes.buffer).getFloat32(8 + headerLength + 4, true)).toBe(0.5)
    const decoded = decodeSafetensors(bytes)
    expect(decoded.metadata).toEqual({ epoch: '3' })
    for (const t of tensors) {
      expect(decoded.tensors.get(t.name)?.shape).toEqual(t.shape)
      expect(Array.from(decoded.tensors.get(t.name)!.data)).toEqual(Array.from(t.data))
    }
  })

  it('refuses a pickle or zip file (torch.save) without reading it', () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0])
    const pickle = Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0, 0, 0, 0, 0, 0])
    for (const bytes of [zip, pickle]) {
      const err = errorOf(() => decodeSafetensors(bytes, 'model.pt'))
      expect(err.code).toBe('INVALID_MODEL')
      expect(err.message).toMatch(/model\.pt: .*pickle/)
    }
  })

  it('refuses a truncated file, naming the tensor that runs past the end', () => {
    const bytes = encodeSafetensors([tensor('layers.0.weight', [6, 1, 3, 3]), tensor('layers.0.bias', [6])])
    const err = errorOf(() => decodeSafetensors(bytes.subarray(0, bytes.length - 10)))
    expect(err.code).toBe('INVALID_MODEL')
    expect(err.message).toContain('layers.0.bias')
    expect(err.details).toMatchObject({ tensor: 'layers.0.bias' })
    expect(errorOf(() => decodeSafetensors(bytes.subarray(0, 20))).message).toMatch(/header claims/)
  })

  it('refuses a header that lies: offsets out of range, overlapping, or not matching the shape', () => {
    const outOfRange = fileWith({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, x: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 12)
    expect(errorOf(() => decodeSafetensors(outOfRange)).details).toMatchObject({ tensor: 'x' })
    const overlap = fileWith({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, x: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 16)
    const err = errorOf(() => decodeSafetensors(overlap))
    expect(err.message).toMatch(/overlap/)
    expect(err.details).toMatchObject({ tensor: 'x' })
    const wrongSize = fileWith({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)
    expect(errorOf(() => decodeSafetensors(wrongSize)).message).toMatch(/tensor w is \[3\] F32 \(12 bytes\) but its offsets span 8/)
    const notJson = fileWith({}, 0)
    notJson[8] = 0x7b + 1
    expect(errorOf(() => decodeSafetensors(notJson)).message).toMatch(/not valid JSON/)
  })

  it('refuses a tensor of the wrong dtype or shape for the model, by name, and one the model lacks', () => {
    const spec = getPreset('lenet').spec
    const slots = expectedWeightShapes(spec)!
    const ours = slots.map((s, i) => ({ name: `w${i}`, shape: s.shape, data: new Float32Array(s.shape.reduce((a, b) => a * b, 1)) }))
    const torch = toTorchTensors(spec, ours)
    const good = decodeSafetensors(encodeSafetensors(torch))
    expect(fromTorchTensors(spec, good.tensors, 'w.safetensors')).toHaveLength(ours.length)

    // Wrong dtype: layers.0.weight stored as F64.
    const header: Record<string, unknown> = {}
    let offset = 0
    for (const t of torch) {
      const width = t.name === 'layers.0.weight' ? 8 : 4
      header[t.name] = { dtype: width === 8 ? 'F64' : 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * width] }
      offset += t.data.length * width
    }
    const f64 = decodeSafetensors(fileWith(header, offset))
    const dtypeErr = errorOf(() => fromTorchTensors(spec, f64.tensors, 'w.safetensors', f64.otherDtypes))
    expect(dtypeErr.message).toMatch(/layers\.0\.weight is F64; float32/)
    expect(dtypeErr.details).toMatchObject({ tensor: 'layers.0.weight' })

    // Wrong shape: the first conv's weight with its axes in tfjs order.
    const misshapen = new Map(good.tensors)
    misshapen.set('layers.0.weight', { ...good.tensors.get('layers.0.weight')!, shape: [3, 3, 1, 6] })
    const shapeErr = errorOf(() => fromTorchTensors(spec, misshapen, 'w.safetensors'))
    expect(shapeErr.message).toMatch(/layers\.0\.weight is \[3, 3, 1, 6\] but layer 1's kernel needs \[6, 1, 3, 3\]/)

    const missing = new Map(good.tensors)
    missing.delete('layers.3.bias')
    expect(errorOf(() => fromTorchTensors(spec, missing, 'w.safetensors')).details).toMatchObject({ tensor: 'layers.3.bias' })

    const extra = new Map(good.tensors)
    extra.set('layers.99.weight', tensor('layers.99.weight', [1]))
    expect(errorOf(() => fromTorchTensors(spec, extra, 'w.safetensors')).message).toMatch(/layers\.99\.weight is not part of this model/)
  })
})
