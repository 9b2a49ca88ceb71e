import { describe, expect, it } from 'vitest'
import { tf } from './tf'
import { selectBackend } from './backends/select'
import { buildModel } from './model'
import { CONV_BIAS_ACTIVATION } from './backends/wasm-kernels/layer-kernels'
import { getPreset } from '../shared/model/presets'

const BATCH = 6

interface StepResult {
  loss: number
  grads: Float32Array[]
  kernels: string[]
}

/** One training step's loss and gradients of a preset on the current backend, from a fixed seed. */
async function step(preset: string): Promise<StepResult> {
  const spec = getPreset(preset).spec
  const { height, width, channels } = spec.input
  const model = buildModel(spec, 3, `fused-${tf.getBackend()}`)
  const size = BATCH * height * width * channels
  const x = tf.tensor4d(Float32Array.from({ length: size }, (_, i) => ((i * 37) % 101) / 101), [BATCH, height, width, channels])
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => (i * 3) % 10), 'int32'), 10)
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null
  const info = await tf.profile(() => {
    result = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forward(x, true)) as tf.Scalar, model.trainable)
  })
  const { value, grads } = result as unknown as { value: tf.Scalar; grads: tf.NamedTensorMap }
  const out = {
    loss: (await value.data())[0]!,
    grads: await Promise.all(model.trainable.map(async (v) => (await grads[v.name]!.data()) as Float32Array)),
    kernels: info.kernels.map((k) => k.name)
  }
  tf.dispose([x, y, value, ...Object.values(grads)])
  model.dispose()
  return out
}

describe('conv layers as one fused op on wasm (model.ts)', () => {
  // lenet5: tanh layers through the direct kernel and XNNPACK; cnn3: relu layers through the
  // direct kernel and Winograd.
  it.each(['lenet5', 'cnn3'])('give %s the same loss and gradients as tfjs ops on cpu', async (preset) => {
    await selectBackend('cpu')
    const cpu = await step(preset)
    expect(cpu.kernels).not.toContain(CONV_BIAS_ACTIVATION)
    await selectBackend('wasm')
    const wasm = await step(preset)
    expect(wasm.kernels).toContain(CONV_BIAS_ACTIVATION)
    expect(wasm.kernels).not.toContain('Conv2D')
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5)
    expect(wasm.grads.length).toBe(cpu.grads.length)
    cpu.grads.forEach((g, i) => {
      let scale = 0
      let worst = 0
      for (let j = 0; j < g.length; j++) {
        scale = Math.max(scale, Math.abs(g[j]!))
        worst = Math.max(worst, Math.abs(g[j]! - wasm.grads[i]![j]!))
      }
      expect(worst / Math.max(scale, 1e-12)).toBeLessThan(1e-4)
    })
  })
})
