import { existsSync } from 'node:fs'
import { join } from 'node:path'
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
   * Imports a package by name (default: import()). Tests pass stand-ins for optional packages
   * that are not installed here (tfjs-node, webgpu), so their loading paths run without them.
   */
  importModule?: (name: string) => Promise<unknown>
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
async function importOptional(name: string, options: SelectBackendOptions = {}): Promise<unknown> {
  if (options.importModule) return options.importModule(name)
  return import(/* @vite-ignore */ name)
}

/** The parts of the `webgpu` package (Dawn's Node bindings) the loader uses. */
interface DawnModule {
  create?: (flags: string[]) => { requestAdapter(): Promise<unknown> }
  globals?: object
}

/** Folders where Linux keeps the Vulkan loader, besides those on LD_LIBRARY_PATH. */
const VULKAN_LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/lib']

/**
 * Dawn reaches GPUs on Linux through Vulkan only. Without its loader there is no adapter, and
 * loading Dawn would just print a native warning on every start, so the loader is looked for first.
 */
function vulkanLoaderMissing(): boolean {
  if (process.platform !== 'linux') return false
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...VULKAN_LIBRARY_DIRS]
  return !dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')))
}

/** Why WebGPU cannot run without an adapter, in words a learner can act on. */
export const NO_GPU_ADAPTER =
  'no GPU adapter was found (WebGPU needs a GPU with a Vulkan, Metal or Direct3D 12 driver)'

function missingReason(pkg: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND/.test(message)) {
    return `${pkg} is not installed`
  }
  return `${pkg} failed to load (${message.split('\n')[0]})`
}

const LOADERS: Record<BackendName, Loader> = {
  async tensorflow(options) {
    // tfjs-node registers the 'tensorflow' backend when imported; it needs libtensorflow.
    try {
      await importOptional('@tensorflow/tfjs-node', options)
    } catch (error) {
      throw new Error(missingReason('@tensorflow/tfjs-node', error))
    }
  },
  async webgpu(options) {
    // Node has no navigator.gpu; the `webgpu` package (Dawn bindings) provides one. Ask it for an
    // adapter before loading tfjs's WebGPU backend, so a machine without a GPU skips it cleanly.
    const scope = globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }
    let gpu = scope.navigator?.gpu
    let dawn: DawnModule | null = null
    if (!gpu) {
      // Tests bring their own stand-in for Dawn, which needs no Vulkan.
      if (!options.importModule && vulkanLoaderMissing()) {
        throw new Error(`${NO_GPU_ADAPTER}: no Vulkan loader (libvulkan.so.1) is installed`)
      }
      try {
        dawn = (await importOptional('webgpu', options)) as DawnModule
      } catch (error) {
        throw new Error(missingReason('the webgpu package', error))
      }
      if (typeof dawn.create !== 'function') throw new Error('the webgpu package has no create()')
      gpu = dawn.create([])
    }
    let adapter: unknown = null
    try {
      adapter = await gpu.requestAdapter()
    } catch (error) {
      throw new Error(`asking for a GPU adapter failed (${error instanceof Error ? error.message : String(error)})`)
    }
    if (!adapter) throw new Error(NO_GPU_ADAPTER)
    if (dawn) {
      // tfjs-backend-webgpu reads navigator.gpu and the GPU* constants (GPUBufferUsage, ...).
      if (dawn.globals) Object.assign(globalThis, dawn.globals)
      Object.defineProperty(globalThis, 'navigator', {
        value: { ...(scope.navigator ?? {}), gpu },
        configurable: true
      })
    }
    try {
      await importOptional('@tensorflow/tfjs-backend-webgpu', options)
    } catch (error) {
      throw new Error(missingReason('@tensorflow/tfjs-backend-webgpu', error))
    }
  },
  async wasm(options) {
    let wasmPackage: { setWasmPaths?: (prefix: string) => void }
    try {
      wasmPackage = (await importOptional('@tensorflow/tfjs-backend-wasm', options)) as typeof wasmPackage
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
  async cpu(options) {
    try {
      await importOptional('@tensorflow/tfjs-backend-cpu', options)
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
