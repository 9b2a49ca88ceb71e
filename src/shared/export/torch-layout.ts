import { WorkbenchError } from '../contract/errors'
import type { WeightTensor } from '../engine-protocol'
import type { ModelSpec } from '../model/spec'
import { expectedWeightShapes, type WeightSlot } from '../model/weight-shapes'
import { torchModuleIndices } from './pytorch'
import type { NamedTensor } from './safetensors'

/**
 * Weights between the workbench's layouts and PyTorch's. Ours: conv kernels HWIO
 * [kh, kw, cin, cout], dense kernels [in, out], images NHWC. PyTorch: conv weights OIHW
 * [cout, cin, kh, kw], linear weights [out, in], images NCHW. The dense layer after a flatten
 * needs no row re-ordering here: the engine's flatten transposes to NCHW before reshaping
 * (src/engine/model.ts), so its rows are already in PyTorch's C, H, W order.
 */

/** Permutes a dense row-major array: out[perm-ordered index] = in[index]; `perm[k]` names the input axis of output axis k. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p])
  const inStrides = strides(shape)
  const outStrides = strides(outShape)
  const out = new Float32Array(data.length)
  const rank = shape.length
  const index = new Array<number>(rank).fill(0)
  for (let o = 0; o < data.length; o++) {
    let rest = o
    let src = 0
    for (let k = 0; k < rank; k++) {
      index[k] = Math.floor(rest / outStrides[k])
      rest -= index[k] * outStrides[k]
      src += index[k] * inStrides[perm[k]]
    }
    out[o] = data[src]
  }
  return { data: out, shape: outShape }
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1)
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1]
  return s
}

/** Conv kernel HWIO (ours) to OIHW (PyTorch). */
export const hwioToOihw = (data: Float32Array, shape: readonly number[]) => permute(data, shape, [3, 2, 0, 1])
/** Conv weight OIHW (PyTorch) to HWIO (ours). */
export const oihwToHwio = (data: Float32Array, shape: readonly number[]) => permute(data, shape, [2, 3, 1, 0])
/** Images NHWC (ours) to NCHW (PyTorch). */
export const nhwcToNchw = (data: Float32Array, shape: readonly number[]) => permute(data, shape, [0, 3, 1, 2])
/** Images NCHW (PyTorch) to NHWC (ours). */
export const nchwToNhwc = (data: Float32Array, shape: readonly number[]) => permute(data, shape, [0, 2, 3, 1])
/** Dense kernel [in, out] (ours) to/from linear weight [out, in] (PyTorch). */
export const transpose2d = (data: Float32Array, shape: readonly number[]) => permute(data, shape, [1, 0])

const TORCH_PART: Record<WeightSlot['part'], string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var'
}

/** One weight slot of the spec with its PyTorch state-dict name and shape. */
export interface TorchSlot extends WeightSlot {
  torchName: string
  torchShape: number[]
}

/** The PyTorch state-dict entries of a spec (model.py's `Net`), in the engine's variable order. */
export function torchSlots(spec: ModelSpec): TorchSlot[] {
  const slots = expectedWeightShapes(spec)
  if (!slots) throw new WorkbenchError('INVALID_MODEL', 'The model\'s layer shapes do not fit together; fix it before exporting.')
  const modules = torchModuleIndices(spec)
  return slots.map((slot) => {
    const type = spec.layers[slot.layer].type
    const torchShape =
      slot.part === 'kernel' && type === 'conv2d'
        ? [slot.shape[3], slot.shape[2], slot.shape[0], slot.shape[1]]
        : slot.part === 'kernel'
          ? [slot.shape[1], slot.shape[0]]
          : slot.shape
    return { ...slot, torchName: `layers.${modules[slot.layer]}.${TORCH_PART[slot.part]}`, torchShape }
  })
}

/** The engine's weights (variable order) as PyTorch state-dict tensors. */
export function toTorchTensors(spec: ModelSpec, weights: readonly WeightTensor[]): NamedTensor[] {
  const slots = torchSlots(spec)
  if (weights.length !== slots.length) {
    throw new WorkbenchError('INVALID_MODEL', `The model has ${weights.length} weight tensors but its spec needs ${slots.length}.`)
  }
  return slots.map((slot, i) => {
    const w = weights[i]
    const type = spec.layers[slot.layer].type
    const moved =
      slot.part === 'kernel' && type === 'conv2d'
        ? hwioToOihw(w.data, w.shape)
        : slot.part === 'kernel'
          ? transpose2d(w.data, w.shape)
          : { data: Float32Array.from(w.data), shape: [...w.shape] }
    return { name: slot.torchName, shape: moved.shape, data: moved.data }
  })
}

/**
 * PyTorch state-dict tensors back to the engine's weights, every shape checked by name: a
 * missing or misshapen tensor is an INVALID_MODEL error naming it; so is one the model lacks.
 */
export function fromTorchTensors(
  spec: ModelSpec,
  tensors: ReadonlyMap<string, NamedTensor>,
  file: string,
  otherDtypes: ReadonlyMap<string, string> = new Map()
): WeightTensor[] {
  const slots = torchSlots(spec)
  const known = new Set(slots.map((s) => s.torchName))
  for (const name of [...tensors.keys(), ...otherDtypes.keys()]) {
    // PyTorch's batch-norm step counter has no counterpart in the workbench.
    if (!known.has(name) && !name.endsWith('.num_batches_tracked')) {
      throw new WorkbenchError('INVALID_MODEL', `${file}: tensor ${name} is not part of this model (${spec.name}).`, { file, tensor: name })
    }
  }
  return slots.map((slot) => {
    const t = tensors.get(slot.torchName)
    if (!t) {
      const dtype = otherDtypes.get(slot.torchName)
      throw new WorkbenchError(
        'INVALID_MODEL',
        dtype
          ? `${file}: tensor ${slot.torchName} is ${dtype}; float32 (F32) is needed.`
          : `${file}: tensor ${slot.torchName} (layer ${slot.layer + 1}'s ${slot.part}) is missing.`,
        { file, tensor: slot.torchName }
      )
    }
    if (t.shape.length !== slot.torchShape.length || t.shape.some((d, k) => d !== slot.torchShape[k])) {
      throw new WorkbenchError(
        'INVALID_MODEL',
        `${file}: tensor ${slot.torchName} is [${t.shape.join(', ')}] but layer ${slot.layer + 1}'s ${slot.part} needs [${slot.torchShape.join(', ')}].`,
        { file, tensor: slot.torchName }
      )
    }
    const type = spec.layers[slot.layer].type
    const moved =
      slot.part === 'kernel' && type === 'conv2d'
        ? oihwToHwio(t.data, t.shape)
        : slot.part === 'kernel'
          ? transpose2d(t.data, t.shape)
          : { data: Float32Array.from(t.data), shape: [...t.shape] }
    return { name: `layer${slot.layer}_${spec.layers[slot.layer].type}/${slot.part}`, shape: moved.shape, data: moved.data }
  })
}
