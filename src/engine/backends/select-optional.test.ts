import { afterEach, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu'
import { NO_GPU_ADAPTER, selectBackend, type SelectBackendOptions } from './select'
import { chooseThreads } from '../parallel-training'
import { getPreset } from '../../shared/model/presets'
import { hyperSchema } from '../../shared/hyper'

// tfjs-node and a GPU are absent here, so these tests stand in for the optional packages with
// modules that register a backend the way the real ones do (by name, on import), built from
// the cpu backend's kernels. The loaders, the self-test and the fallbacks are the real code.

/** Registers `name` as a backend running the cpu kernels; `break` corrupts its convolution. */
function registerStandIn(name: string, broken = false): void {
  tf.registerBackend(name, () => new MathBackendCPU())
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    const wrong: tf.KernelFunc = (args) => {
      const out = kernel.kernelFunc(args) as tf.TensorInfo
      // Doubles the result in place: a backend that computes convolutions wrongly.
      const backend = args.backend as MathBackendCPU
      const values = backend.data.get(out.dataId).values as Float32Array
      for (let i = 0; i < values.length; i++) values[i] *= 2
      return out
    }
    tf.registerKernel({
      ...kernel,
      backendName: name,
      kernelFunc: broken && kernel.kernelName === 'Conv2D' ? wrong : kernel.kernelFunc
    })
  }
}

function unregisterStandIn(name: string): void {
  if (!tf.findBackendFactory(name)) return
  for (const kernel of tf.getKernelsForBackend(name)) tf.unregisterKernel(kernel.kernelName, name)
  tf.removeBackend(name)
}

/** An importModule that knows only the packages in `modules`; the rest are "not installed". */
function packages(modules: Record<string, () => unknown>): SelectBackendOptions['importModule'] {
  return async (name) => {
    const load = modules[name]
    if (load) return load()
    if (name === '@tensorflow/tfjs-backend-wasm' || name === '@tensorflow/tfjs-backend-cpu') {
      return import(/* @vite-ignore */ name)
    }
    throw new Error(`Cannot find module '${name}'`)
  }
}

const imported: string[] = []
const originalNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator')

afterEach(async () => {
  imported.length = 0
  unregisterStandIn('tensorflow')
  unregisterStandIn('webgpu')
  if (originalNavigator) Object.defineProperty(globalThis, 'navigator', originalNavigator)
  else delete (globalThis as { navigator?: unknown }).navigator
  await tf.setBackend('cpu')
})

describe('the tensorflow backend (tfjs-node)', () => {
  it('is chosen first on auto once it installs, passes the self-test and trains', async () => {
    const importModule = packages({
      '@tensorflow/tfjs-node': () => {
        imported.push('@tensorflow/tfjs-node')
        registerStandIn('tensorflow')
        return {}
      }
    })
    const chosen = await selectBackend('auto', undefined, { importModule })
    expect(chosen).toEqual({ backend: 'tensorflow', notes: [] })
    expect(imported).toEqual(['@tensorflow/tfjs-node'])
    expect(tf.getBackend()).toBe('tensorflow')
    // A gradient step runs on it, and the engine trains it on one thread (its own pool).
    const w = tf.variable(tf.ones([3, 3, 1, 1]))
    const x = tf.ones([2, 4, 4, 1]) as tf.Tensor4D
    tf.train.sgd(0.1).minimize(() => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'valid')) as tf.Scalar)
    expect([...(await w.data())]).toEqual(Array(9).fill(Math.fround(1 - Math.fround(0.1) * 8)))
    const hyper = hyperSchema.parse({ batchSize: 256 })
    expect(chooseThreads(getPreset('lenet').spec, hyper, 'tensorflow')).toBe(1)
    tf.dispose([w, x])
  })

  it('is passed over with a note when its convolution gives wrong numbers', async () => {
    const importModule = packages({
      '@tensorflow/tfjs-node': () => registerStandIn('tensorflow', true)
    })
    const chosen = await selectBackend('tensorflow', undefined, { importModule })
    expect(chosen.backend).not.toBe('tensorflow')
    expect(chosen.notes[0]).toMatch(/^Skipped tensorflow: the tensorflow backend gave wrong results: its convolution was off by/)
    expect(chosen.notes.at(-1)).toBe(`Using ${chosen.backend} instead of tensorflow.`)
  })

  it('says whether it is missing or failed to load', async () => {
    const missing = await selectBackend('tensorflow', undefined, { importModule: packages({}) })
    expect(missing.notes[0]).toBe('Skipped tensorflow: @tensorflow/tfjs-node is not installed.')
    const importModule = packages({
      '@tensorflow/tfjs-node': () => {
        throw new Error('libtensorflow.so.2: cannot open shared object file\nstack')
      }
    })
    const broken = await selectBackend('tensorflow', undefined, { importModule })
    expect(broken.notes[0]).toBe(
      'Skipped tensorflow: @tensorflow/tfjs-node failed to load (libtensorflow.so.2: cannot open shared object file).'
    )
  })
})

describe('the webgpu backend', () => {
  /** A stand-in for the `webgpu` package whose adapter is `adapter`. */
  const dawn = (adapter: unknown) => () => ({
    create: () => ({ requestAdapter: async () => adapter }),
    globals: { GPUBufferUsage: { MAP_READ: 1 } }
  })

  it('is skipped with a note, without loading tfjs-backend-webgpu, where no adapter exists', async () => {
    const importModule = packages({
      webgpu: dawn(null),
      '@tensorflow/tfjs-backend-webgpu': () => {
        imported.push('@tensorflow/tfjs-backend-webgpu')
        return {}
      }
    })
    const chosen = await selectBackend('auto', undefined, { importModule })
    expect(chosen.backend).toBe('wasm')
    expect(chosen.notes).toEqual([
      'Skipped tensorflow: @tensorflow/tfjs-node is not installed.',
      `Skipped webgpu: ${NO_GPU_ADAPTER}.`
    ])
    expect(imported).toEqual([])
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined()
  })

  it('is chosen where an adapter exists, with navigator.gpu and the GPU constants in place', async () => {
    const importModule = packages({
      webgpu: dawn({ name: 'stand-in adapter' }),
      '@tensorflow/tfjs-backend-webgpu': () => {
        const scope = globalThis as { navigator?: { gpu?: unknown }; GPUBufferUsage?: unknown }
        // The real package needs both at import time.
        expect(scope.navigator?.gpu).toBeDefined()
        expect(scope.GPUBufferUsage).toEqual({ MAP_READ: 1 })
        registerStandIn('webgpu')
        return {}
      }
    })
    const chosen = await selectBackend('auto', undefined, { importModule })
    expect(chosen).toEqual({
      backend: 'webgpu',
      notes: ['Skipped tensorflow: @tensorflow/tfjs-node is not installed.']
    })
    expect(tf.getBackend()).toBe('webgpu')
    delete (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage
  })

  it('says when the webgpu package is not installed', async () => {
    const chosen = await selectBackend('webgpu', undefined, { importModule: packages({}) })
    expect(chosen.notes[0]).toBe('Skipped webgpu: the webgpu package is not installed.')
  })
})
