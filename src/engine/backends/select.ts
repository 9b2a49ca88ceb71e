import * as tf from '@tensorflow/tfjs-core'
import type { BackendChoice, BackendName } from '../../shared/hyper'
import { registerWasmKernels } from './wasm-kernels/index'
import { runBackendSelfTest } from './self-test'

/** Order in which 'auto' tries backends: fastest first. */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

/** The backend training will run on, and why others were passed over. */
export interface BackendSelection {
  backend: BackendName
  notes: string[]
}

/** Options for selectBackend; all optional. */
export interface SelectBackendOptions {
  /** Load the project's wasm kernels from this file instead of the embedded copy. */
  wasmKernelsPath?: string
  /**
   * Folder holding tfjs-backend-wasm's own .wasm binaries. Only needed when the package is
   * bundled rather than left in node_modules (where it finds them itself).
   */
  tfjsWasmDir?: string
  /**
   * Replaces the loaders of some backends (tests stub them, so what they check does not depend
   * on which optional packages happen to be installed).
   */
  loaders?: Partial<Record<BackendName, BackendLoader>>
}

/** Loads one backend's package and registers it with TensorFlow.js; throws why it cannot. */
export type BackendLoader = (options: SelectBackendOptions) => Promise<void>
type Loader = BackendLoader

/** Imports an optional package; the variable specifier keeps bundlers from resolving it at build time. */
async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name)
}

function missingReason(pkg: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND/.test(message)) {
    return `${pkg} is not installed`
  }
  return `${pkg} failed to load (${message.split('\n')[0]})`
}

const LOADERS: Record<BackendName, Loader> = {
  async tensorflow() {
    // tfjs-node registers the 'tensorflow' backend when imported; it needs libtensorflow.
    try {
      await importOptional('@tensorflow/tfjs-node')
    } catch (error) {
      throw new Error(missingReason('@tensorflow/tfjs-node', error))
    }
  },
  async webgpu() {
    // Node has no navigator.gpu; the `webgpu` package (Dawn bindings) provides one.
    let gpuModule: { create?: (flags: string[]) => unknown; globals?: object }
    try {
      gpuModule = (await importOptional('webgpu')) as typeof gpuModule
    } catch (error) {
      throw new Error(missingReason('the webgpu package', error))
    }
    try {
      await importOptional('@tensorflow/tfjs-backend-webgpu')
    } catch (error) {
      throw new Error(missingReason('@tensorflow/tfjs-backend-webgpu', error))
    }
    const scope = globalThis as { navigator?: { gpu?: unknown } }
    if (!scope.navigator?.gpu && gpuModule.create) {
      if (gpuModule.globals) Object.assign(globalThis, gpuModule.globals)
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...(scope.navigator ?? {}), gpu: gpuModule.create([]) },
        configurable: true
      })
    }
  },
  async wasm(options) {
    let wasmPackage: { setWasmPaths?: (prefix: string) => void }
    try {
      wasmPackage = (await importOptional('@tensorflow/tfjs-backend-wasm')) as typeof wasmPackage
    } catch (error) {
      throw new Error(missingReason('@tensorflow/tfjs-backend-wasm', error))
    }
    // Node runs tfjs's single-threaded SIMD build: its threaded build needs blob: workers,
    // which Node's worker_threads cannot start. Use the parallel trainer for both cores.
    if (options.tfjsWasmDir && !tf.findBackend('wasm')) {
      const dir = options.tfjsWasmDir
      wasmPackage.setWasmPaths?.(dir.endsWith('/') || dir.endsWith('\\') ? dir : `${dir}/`)
    }
    registerWasmKernels({ wasmPath: options.wasmKernelsPath })
  },
  async cpu() {
    try {
      await importOptional('@tensorflow/tfjs-backend-cpu')
    } catch (error) {
      throw new Error(missingReason('@tensorflow/tfjs-backend-cpu', error))
    }
  }
}

/** Loads, activates and self-tests one backend; returns null on success, else why it failed. */
async function tryBackend(
  name: BackendName,
  options: SelectBackendOptions
): Promise<string | null> {
  try {
    await (options.loaders?.[name] ?? LOADERS[name])(options)
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
  if (!tf.findBackendFactory(name)) return `the ${name} backend did not register itself`
  let ok = false
  try {
    ok = await tf.setBackend(name)
  } catch (error) {
    return `the ${name} backend failed to start (${error instanceof Error ? error.message : String(error)})`
  }
  if (!ok) return `the ${name} backend failed to start`
  const problem = await runBackendSelfTest()
  return problem === null ? null : `the ${name} backend gave wrong results: ${problem}`
}

/**
 * Picks and activates the TensorFlow.js backend for training: the requested one if it loads and
 * passes a small conv-gradient self-test, otherwise the next in order tensorflow, webgpu, wasm,
 * cpu, with a note for every backend passed over.
 */
export async function selectBackend(
  choice: BackendChoice,
  log?: (message: string) => void,
  options: SelectBackendOptions = {}
): Promise<BackendSelection> {
  const notes: string[] = []
  const note = (message: string): void => {
    notes.push(message)
    log?.(message)
  }
  const order: BackendName[] =
    choice === 'auto' ? [...AUTO_ORDER] : [choice, ...AUTO_ORDER.filter((name) => name !== choice)]
  for (const name of order) {
    const problem = await tryBackend(name, options)
    if (problem === null) {
      if (choice !== 'auto' && name !== choice) note(`Using ${name} instead of ${choice}.`)
      return { backend: name, notes }
    }
    note(`Skipped ${name}: ${problem}.`)
  }
  throw new Error(`No TensorFlow.js backend could start. ${notes.join(' ')}`)
}
