import { describe, expect, it } from 'vitest'
import { tf } from '../tf'
import { buildModel, snapshotWeights } from '../model'
import { forwardLayers } from './layer-forward'
import { RunCache } from './load-run'
import { getPreset } from '../../shared/model/presets'
import { MODEL_FORMAT, modelSpecSchema } from '../../shared/model/spec'
import { RunStore } from '../../data/runs/run-store'
import { tempDir } from '../../../test/helpers'

describe('per-layer forward and checkpoint loading', () => {
  it('every layer has its spec shape and the last equals the model logits (lenet, lenet5, batch norm)', async () => {
    await tf.setBackend('cpu')
    const bn = modelSpecSchema.parse({
      format: MODEL_FORMAT,
      name: 'bn',
      input: { channels: 1, height: 8, width: 8 },
      layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'elu' },
        { type: 'batchNorm' },
        { type: 'activation', fn: 'leakyRelu' },
        { type: 'avgPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: 4, activation: 'sigmoid', useBias: false },
        { type: 'dense', units: 2 }
      ]
    })
    for (const spec of [getPreset('lenet').spec, getPreset('lenet5').spec, bn]) {
      const model = buildModel(spec, 3, `lf-${spec.name}`)
      const { height, width, channels } = spec.input
      const x = tf.randomUniform([2, height, width, channels]) as tf.Tensor4D
      const outs = forwardLayers(spec, model, x)
      expect(outs).toHaveLength(spec.layers.length)
      expect(outs[0].shape[3]).toBe((spec.layers[0] as { filters: number }).filters)
      const ref = model.forward(x, false)
      const diff = tf.max(tf.abs(tf.sub(outs[outs.length - 1], ref))).dataSync()[0]
      expect(diff).toBeLessThan(1e-5)
      tf.dispose([x, ref, ...outs])
      model.dispose()
    }
  })

  it('loads a saved checkpoint into a model that gives the same outputs, and refuses a missing one', async () => {
    await tf.setBackend('cpu')
    const tmp = tempDir()
    const spec = getPreset('lenet').spec
    const original = buildModel(spec, 9, 'ck-orig')
    const store = new RunStore(tmp.dir)
    await store.writeCheckpoint('r1', spec, await snapshotWeights(original), 1)
    const cache = new RunCache()
    const run = await cache.get(store.dir('r1'))
    expect(run.epoch).toBe(1)
    const x = tf.randomUniform([1, 28, 28, 1]) as tf.Tensor4D
    const a = original.forward(x, false).dataSync()
    const b = run.model.forward(x, false).dataSync()
    expect(Array.from(b)).toEqual(Array.from(a))
    expect(await cache.get(store.dir('r1'))).toBe(run)
    await expect(cache.get(store.dir('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
    original.dispose()
    tmp.cleanup()
  })
})
