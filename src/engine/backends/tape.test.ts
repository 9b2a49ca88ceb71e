import { describe, expect, it } from 'vitest'
import '../tf'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from './select'
import { buildModel } from '../model'
import { getPreset } from '../../shared/model/presets'
import { softmaxCrossEntropy } from '../fused-loss'
import { withLightSaves } from './tape'
import { maxAbsDiff, randomArray } from './wasm-kernels/test-helpers'

/** LeNet-5's gradients on 8 images, with tfjs's clones or with light saves; and the kernels run. */
async function lenetGradients(light: boolean): Promise<{ grads: Float32Array[]; identities: number }> {
  const model = buildModel(getPreset('lenet5').spec, 3, light ? 'light' : 'clone')
  const x = tf.tensor4d(randomArray(8 * 784, 0.5, 7), [8, 28, 28, 1])
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10) as tf.Tensor2D)
  const record = () => tf.variableGrads(() => softmaxCrossEntropy(y, model.forward(x, true) as tf.Tensor2D), model.trainable)
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null
  const info = await tf.profile(() => {
    result = light ? withLightSaves(record) : record()
  })
  const { value, grads } = result as unknown as { value: tf.Scalar; grads: tf.NamedTensorMap }
  const out = model.trainable.map((v) => grads[v.name]!.dataSync() as Float32Array)
  tf.dispose([value, ...Object.values(grads), x, y])
  model.dispose()
  return { grads: out, identities: info.kernels.filter((k) => k.name === 'Identity').length }
}

describe('withLightSaves', () => {
  it.each(['wasm', 'cpu'] as const)('gives the same gradients as tfjs\'s clones on %s, with no Identity kernel to save them', async (backend) => {
    await selectBackend(backend)
    const before = tf.memory().numTensors
    const cloned = await lenetGradients(false)
    const light = await lenetGradients(true)
    light.grads.forEach((g, i) => expect(maxAbsDiff(g, cloned.grads[i]!)).toBe(0))
    expect(cloned.identities).toBeGreaterThan(10)
    expect(light.identities).toBeLessThan(cloned.identities - 10)
    // Saved references are released with the tape, as the clones were.
    expect(tf.memory().numTensors).toBe(before)
  })

  it('keeps saved values alive when the original is disposed, and saves as tfjs does after a throw', async () => {
    await selectBackend('wasm')
    const v = tf.variable(tf.tensor1d([1, 2, 3]))
    // The variable's old values are what d(v^2)/dv = 2v needs, though v is reassigned mid-way.
    const { grads, value } = withLightSaves(() =>
      tf.variableGrads(() => {
        const loss = v.square().sum() as tf.Scalar
        v.assign(tf.tensor1d([10, 20, 30]))
        return loss
      }, [v])
    )
    expect(Array.from(grads[v.name]!.dataSync())).toEqual([2, 4, 6])
    tf.dispose([value, ...Object.values(grads)])
    v.dispose()
    expect(() => withLightSaves(() => { throw new Error('inside') })).toThrow('inside')
    // Outside withLightSaves, tfjs's clones again (Identity kernels).
    const w = tf.variable(tf.tensor1d([1, 2]))
    const info = await tf.profile(() => {
      const r = tf.variableGrads(() => w.square().sum() as tf.Scalar, [w])
      tf.dispose([r.value, ...Object.values(r.grads)])
    })
    expect(info.kernels.some((k) => k.name === 'Identity')).toBe(true)
    w.dispose()
  })
})
