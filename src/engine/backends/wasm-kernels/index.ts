import { findBackendFactory, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core'
import type { KernelConfig } from '@tensorflow/tfjs-core'
import {
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  conv2dConfig,
  fusedConv2dConfig
} from './conv-kernels'
import { batchMatMulConfig, fusedMatMulConfig } from './matmul-kernel'
import { avgPoolGradConfig, maxPoolConfig, maxPoolGradConfig } from './pool-kernels'
import { addConfig, sumConfig } from './bias-kernels'
import { tanhConfig } from './activation-kernels'
import { gatherConfig, sliceConfig, transposeConfig } from './copy-kernels'
import {
  ACTIVATION_GRAD,
  CONV_BIAS_ACTIVATION,
  activationGradConfig,
  convBiasActivationConfig,
  identityConfig
} from './layer-kernels'
import { createConvGradModule, type ConvGradModule, type KernelBuild, type SharedHeap } from './native-module'
import {
  COUNT_HITS,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
  countHitsConfig,
  softmaxCrossEntropyConfig,
  softmaxCrossEntropyGradConfig
} from './loss-kernels'

export type { ConvGradModule, ConvGeometry } from './native-module'
export { createConvGradModule } from './native-module'
export { ACTIVATION_GRAD, CONV_BIAS_ACTIVATION, type ConvBiasActivationAttrs } from './layer-kernels'

/** Kernels this module installs on the wasm backend. */
export const WASM_KERNEL_NAMES = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
  'MaxPool',
  'Add',
  'Sum',
  'Tanh',
  'Identity',
  'GatherV2',
  'Slice',
  'Transpose',
  CONV_BIAS_ACTIVATION,
  ACTIVATION_GRAD,
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
  COUNT_HITS
] as const

/** Options for registerWasmKernels. */
export interface RegisterWasmKernelsOptions {
  /** Load the kernel binary from this file instead of the copy embedded in the bundle. */
  wasmPath?: string
  /** Copy tensors into a private memory instead of working in tfjs's heap (slower; for tests). */
  private?: boolean
  /** The kernels' build (native-module.ts); by default relaxed SIMD where the runtime has it. */
  build?: KernelBuild
}

/** The parts of tfjs-backend-wasm's emscripten module used to share its heap. */
interface EmscriptenModuleLike {
  asm?: { memory?: SharedHeap['memory'] }
  _malloc?: (bytes: number) => number
  _free?: (pointer: number) => void
}

// Remembers which registry entries are ours, so a second call is a no-op.
const ownConfigs = new WeakSet<KernelConfig>()

/** Installs the project's wasm-backend kernels (training gradients tfjs lacks or runs slowly). Idempotent. */
export function registerWasmKernels(options: RegisterWasmKernelsOptions = {}): void {
  // The package's own registrations would silently replace ours if it were imported later.
  if (!findBackendFactory('wasm')) {
    throw new Error('Import @tensorflow/tfjs-backend-wasm before calling registerWasmKernels().')
  }
  const installed = WASM_KERNEL_NAMES.map((name) => getKernel(name, 'wasm'))
  if (installed.every((config) => config !== undefined && ownConfigs.has(config))) return
  const native = lazyModule(options)
  const xnnConv = getKernel('Conv2D', 'wasm')
  const conv = xnnConv && !ownConfigs.has(xnnConv) ? conv2dConfig(native, xnnConv) : xnnConv
  const configs = [
    conv2dBackpropFilterConfig(native),
    conv2dBackpropInputConfig(native, conv),
    maxPoolGradConfig(native),
    avgPoolGradConfig(native),
    tanhConfig(native),
    convBiasActivationConfig(native),
    activationGradConfig(native),
    softmaxCrossEntropyConfig(),
    softmaxCrossEntropyGradConfig(),
    countHitsConfig()
  ]
  if (conv && conv !== xnnConv) configs.push(conv)
  const fused = getKernel('FusedConv2D', 'wasm')
  if (fused && !ownConfigs.has(fused)) configs.push(fusedConv2dConfig(native, fused))
  const matMul = getKernel('BatchMatMul', 'wasm')
  const transpose = getKernel('Transpose', 'wasm')
  if (matMul && transpose && !ownConfigs.has(matMul))
    configs.push(batchMatMulConfig(native, matMul, transpose))
  const maxPool = getKernel('MaxPool', 'wasm')
  if (maxPool && !ownConfigs.has(maxPool)) configs.push(maxPoolConfig(native, maxPool))
  const fusedMatMul = getKernel('_FusedMatMul', 'wasm')
  if (fusedMatMul && !ownConfigs.has(fusedMatMul)) configs.push(fusedMatMulConfig(native, fusedMatMul))
  if (transpose && !ownConfigs.has(transpose)) configs.push(transposeConfig(native, transpose))
  const add = getKernel('Add', 'wasm')
  if (add && !ownConfigs.has(add)) configs.push(addConfig(native, add))
  const identity = getKernel('Identity', 'wasm')
  if (identity && !ownConfigs.has(identity)) configs.push(identityConfig(identity))
  const gather = getKernel('GatherV2', 'wasm')
  if (gather && !ownConfigs.has(gather)) configs.push(gatherConfig(gather))
  const slice = getKernel('Slice', 'wasm')
  if (slice && !ownConfigs.has(slice)) configs.push(sliceConfig(slice))
  const sum = getKernel('Sum', 'wasm')
  if (sum && !ownConfigs.has(sum)) configs.push(sumConfig(native, sum))
  for (const config of configs) {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm')
    registerKernel(config)
    ownConfigs.add(config)
  }
}

/** tfjs's heap, when its wasm module exposes memory and allocator (the single-threaded builds do). */
function sharedHeapOf(backend: unknown): SharedHeap | undefined {
  const wasm = (backend as { wasm?: EmscriptenModuleLike } | undefined)?.wasm
  const memory = wasm?.asm?.memory
  const malloc = wasm?._malloc
  const free = wasm?._free
  if (!memory || !malloc || !free) return undefined
  return { memory, malloc: (bytes) => malloc(bytes), free: (pointer) => free(pointer) }
}

/**
 * The kernels are instantiated on first use, inside the wasm backend's heap when it is
 * reachable, since the backend may not exist yet when kernels are registered.
 */
function lazyModule(options: RegisterWasmKernelsOptions): (backend: unknown) => ConvGradModule {
  let boundTo: unknown = null
  let module: ConvGradModule | null = null
  return (backend) => {
    if (!module || boundTo !== backend) {
      const heap = options.private ? undefined : sharedHeapOf(backend)
      module = createConvGradModule({ wasmPath: options.wasmPath, heap, build: options.build })
      boundTo = backend
    }
    return module
  }
}
