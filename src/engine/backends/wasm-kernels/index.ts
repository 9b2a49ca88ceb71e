import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core'
import type { KernelConfig } from '@tensorflow/tfjs-core'
import { conv2dBackpropFilterConfig, conv2dBackpropInputConfig } from './conv-kernels'
import { createConvGradModule } from './native-module'

export type { ConvGradModule, ConvGeometry } from './native-module'
export { createConvGradModule } from './native-module'

/** Kernels this module installs on the wasm backend. */
export const WASM_KERNEL_NAMES = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const

/** Options for registerWasmKernels. */
export interface RegisterWasmKernelsOptions {
  /** Load the kernel binary from this file instead of the copy embedded in the bundle. */
  wasmPath?: string
}

// Remembers which registry entries are ours, so a second call is a no-op.
const ownConfigs = new WeakSet<KernelConfig>()

/** Installs the project's wasm-backend kernels (training gradients tfjs lacks or runs slowly). Idempotent. */
export function registerWasmKernels(options: RegisterWasmKernelsOptions = {}): void {
  const installed = WASM_KERNEL_NAMES.map((name) => getKernel(name, 'wasm'))
  if (installed.every((config) => config !== undefined && ownConfigs.has(config))) return
  const native = createConvGradModule(options.wasmPath)
  for (const config of [conv2dBackpropFilterConfig(native), conv2dBackpropInputConfig(native)]) {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm')
    registerKernel(config)
    ownConfigs.add(config)
  }
}
