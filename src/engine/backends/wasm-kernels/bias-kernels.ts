import { util } from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import type { ConvGradModule } from './native-module'
import { heapOf, replacing, type WasmBackendLike } from './heap'

type Native = (backend: unknown) => ConvGradModule

/** Add for the wasm backend with a fast path for a bias over the last axis; the rest is tfjs's. */
export function addConfig(native: Native, original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const { a, b } = args.inputs
    const isBias = (x?: TensorInfo, bias?: TensorInfo): boolean =>
      !!x &&
      !!bias &&
      x.dtype === 'float32' &&
      bias.dtype === 'float32' &&
      bias.shape.length === 1 &&
      x.shape.length >= 2 &&
      x.shape[x.shape.length - 1] === bias.shape[0] &&
      bias.shape[0]! > 0
    const [x, bias] = isBias(a, b) ? [a!, b!] : isBias(b, a) ? [b!, a!] : [null, null]
    if (!x || !bias) return original.kernelFunc(args) as TensorInfo
    const wasm = args.backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(x.shape, 'float32')
    native(args.backend).biasAdd(heapOf(wasm, x), heapOf(wasm, bias), heapOf(wasm, out))
    return out
  }
  return replacing(original, kernelFunc)
}

/** Sum for the wasm backend with a fast path for reducing every axis but the last (bias gradients). */
export function sumConfig(native: Native, original: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const x = args.inputs.x
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean }
    if (!x || x.dtype !== 'float32' || x.shape.length < 2)
      return original.kernelFunc(args) as TensorInfo
    const rank = x.shape.length
    const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q)
    const allButLast = axes.length === rank - 1 && axes.every((ax, i) => ax === i)
    const channels = x.shape[rank - 1]!
    if (!allButLast || channels === 0 || util.sizeFromShape(x.shape) === 0) {
      return original.kernelFunc(args) as TensorInfo
    }
    const wasm = args.backend as unknown as WasmBackendLike
    const shape = keepDims ? [...Array(rank - 1).fill(1), channels] : [channels]
    const out = wasm.makeOutput(shape, 'float32')
    native(args.backend).channelSum(heapOf(wasm, x), heapOf(wasm, out))
    return out
  }
  return replacing(original, kernelFunc)
}
