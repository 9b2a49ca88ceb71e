import { afterAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu'
import { selectBackend, type BackendLoader } from './select'

// The optional packages (tfjs-node, webgpu) install on some machines and not on others: these
// tests stub their loaders, so they check the same thing everywhere.
const missing =
  (pkg: string): BackendLoader =>
  async () => {
    throw new Error(`${pkg} is not installed`)
  }
const OPTIONAL_MISSING = { tensorflow: missing('@tensorflow/tfjs-node'), webgpu: missing('the webgpu package') }

/** A stand-in for tfjs-node: the cpu backend's kernels registered under the name 'tensorflow'. */
const fakeTensorflow: BackendLoader = async () => {
  if (tf.findBackendFactory('tensorflow')) return
  tf.registerBackend('tensorflow', () => new MathBackendCPU())
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'tensorflow' })
}

describe('selectBackend', () => {
  afterAll(() => {
    if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow')
  })

  it('uses cpu when asked for cpu', async () => {
    const chosen = await selectBackend('cpu', undefined, { loaders: OPTIONAL_MISSING })
    expect(chosen.backend).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
  })

  it('falls back from a missing tensorflow backend and says why', async () => {
    const lines: string[] = []
    const chosen = await selectBackend('tensorflow', (line) => lines.push(line), { loaders: OPTIONAL_MISSING })
    expect(chosen.backend).toBe('wasm')
    expect(chosen.notes).toEqual([
      'Skipped tensorflow: @tensorflow/tfjs-node is not installed.',
      'Skipped webgpu: the webgpu package is not installed.',
      'Using wasm instead of tensorflow.'
    ])
    expect(lines).toEqual(chosen.notes)
    expect(tf.getBackend()).toBe('wasm')
  })

  it('picks wasm on auto when the optional backends are missing, with training gradients working', async () => {
    const chosen = await selectBackend('auto', undefined, { loaders: OPTIONAL_MISSING })
    expect(chosen.backend).toBe('wasm')
    const dw = tf.grad((w: tf.Tensor) =>
      tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'))
    )(tf.ones([3, 3, 1, 1]))
    expect([...(await dw.data())]).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4])
  })

  it('prefers tensorflow on auto where it loads and passes the self-test', async () => {
    const chosen = await selectBackend('auto', undefined, { loaders: { ...OPTIONAL_MISSING, tensorflow: fakeTensorflow } })
    expect(chosen).toEqual({ backend: 'tensorflow', notes: [] })
    expect(tf.getBackend()).toBe('tensorflow')
  })
})
