import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import { selectBackend } from './select'

describe('selectBackend', () => {
  it('uses cpu when asked for cpu', async () => {
    const chosen = await selectBackend('cpu')
    expect(chosen.backend).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
  })

  it('falls back from a missing tensorflow backend and says why', async () => {
    const lines: string[] = []
    const chosen = await selectBackend('tensorflow', (line) => lines.push(line))
    expect(['webgpu', 'wasm', 'cpu']).toContain(chosen.backend)
    expect(chosen.notes.join(' ')).toMatch(/tensorflow/)
    expect(lines).toEqual(chosen.notes)
    expect(tf.getBackend()).toBe(chosen.backend)
  })

  it('picks wasm on auto without tfjs-node or a GPU, with training gradients working', async () => {
    // Hides the optional packages, so a machine with a GPU or tfjs-node gives the same answer.
    const importModule = async (name: string): Promise<unknown> => {
      if (name === 'webgpu' || name === '@tensorflow/tfjs-node') throw new Error(`Cannot find module '${name}'`)
      return import(/* @vite-ignore */ name)
    }
    const chosen = await selectBackend('auto', undefined, { importModule })
    expect(chosen.backend).toBe('wasm')
    const dw = tf.grad((w: tf.Tensor) =>
      tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'))
    )(tf.ones([3, 3, 1, 1]))
    expect([...(await dw.data())]).toEqual([4, 4, 4, 4, 4, 4, 4, 4, 4])
  })
})
