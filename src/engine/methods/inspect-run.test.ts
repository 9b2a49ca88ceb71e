import { describe, expect, it } from 'vitest'
import { tf } from '../tf'
import { buildModel, snapshotWeights } from '../model'
import { createInspectMethods } from './inspect-run'
import { RunStore } from '../../data/runs/run-store'
import { getPreset } from '../../shared/model/presets'
import { tempDir } from '../../../test/helpers'
import type { MethodContext } from './types'

const ctx: MethodContext = {
  progress: () => undefined,
  signal: new AbortController().signal,
  loadDataset: () => Promise.reject(new Error('no dataset in this test'))
}

describe('inspection methods in the engine', () => {
  it('shows an MLP first layer as one 28×28 template per unit (64 at most), laid out in CHW order', async () => {
    await tf.setBackend('cpu')
    const tmp = tempDir()
    const spec = getPreset('mlp').spec
    const model = buildModel(spec, 1, 'mlp-filters')
    const weights = await snapshotWeights(model)
    const store = new RunStore(tmp.dir)
    await store.writeCheckpoint('mlp', spec, weights, 1)
    const methods = createInspectMethods()
    const f = (await methods['inspect:filters'].handler({ runDir: store.dir('mlp') }, ctx)) as {
      conv: unknown[]
      dense: { index: number; units: number; shown: number; templates: number[][]; shape: number[] }
    }
    expect(f.conv).toHaveLength(0)
    expect(f.dense).toMatchObject({ index: 1, units: 512, shown: 64, shape: [1, 28, 28] })
    expect(f.dense.templates).toHaveLength(64)
    // Template u, pixel i is kernel[i][u]: the weight from pixel i to unit u.
    const kernel = weights[0]
    expect(f.dense.templates[5][100]).toBeCloseTo(kernel.data[100 * 512 + 5], 6)
    model.dispose()
    tmp.cleanup()
  })

  it('runs a drawing (raw pixels) through every layer and refuses pixels of the wrong size', async () => {
    await tf.setBackend('cpu')
    const tmp = tempDir()
    const spec = getPreset('lenet5').spec
    const model = buildModel(spec, 2, 'lenet5-act')
    const store = new RunStore(tmp.dir)
    await store.writeCheckpoint('l5', spec, await snapshotWeights(model), 3)
    const methods = createInspectMethods()
    const pixels = Array.from({ length: 784 }, (_, i) => (i % 28) / 27)
    const r = (await methods['inspect:activations'].handler({ runDir: store.dir('l5'), input: { kind: 'pixels', pixels } }, ctx)) as {
      layers: Array<{ shape: number[]; maps?: number[][]; min: number[] }>
      probabilities: number[]
      epoch: number
    }
    expect(r.epoch).toBe(3)
    expect(r.layers.map((l) => l.shape)).toEqual([[6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 5, 5], [120, 1, 1], [120], [84], [10]])
    // tanh maps go negative: the view draws them on a diverging scale.
    expect(Math.min(...r.layers[0].min)).toBeLessThan(0)
    expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    await expect(
      methods['inspect:predict'].handler({ runDir: store.dir('l5'), input: { kind: 'pixels', pixels: pixels.slice(1) } }, ctx)
    ).rejects.toMatchObject({ code: 'INCOMPATIBLE' })
    model.dispose()
    tmp.cleanup()
  })

  it('gives a Grad-CAM of the last conv layer at the input size (non-negative), and none for an MLP', async () => {
    await tf.setBackend('cpu')
    const tmp = tempDir()
    const store = new RunStore(tmp.dir)
    const spec = getPreset('lenet').spec
    const model = buildModel(spec, 3, 'gradcam')
    await store.writeCheckpoint('cnn', spec, await snapshotWeights(model), 1)
    const mlpSpec = getPreset('mlp').spec
    const mlp = buildModel(mlpSpec, 3, 'gradcam-mlp')
    await store.writeCheckpoint('mlp', mlpSpec, await snapshotWeights(mlp), 1)
    const methods = createInspectMethods()
    const pixels = Array.from({ length: 784 }, (_, i) => ((i * 7) % 28) / 27)
    const call = () => methods['inspect:saliency'].handler({ runDir: store.dir('cnn'), input: { kind: 'pixels', pixels }, classIndex: 4 }, ctx)
    await call() // loads and caches the run's model
    const before = tf.memory().numTensors
    const r = (await call()) as {
      gradCam: { layer: number; values: number[]; max: number } | null
      classIndex: number
    }
    const lastConv = spec.layers.map((l) => l.type).lastIndexOf('conv2d')
    expect(r.classIndex).toBe(4)
    expect(r.gradCam?.layer).toBe(lastConv)
    expect(r.gradCam?.values).toHaveLength(784)
    expect(Math.min(...(r.gradCam?.values ?? [-1]))).toBeGreaterThanOrEqual(0)
    expect(r.gradCam?.max).toBe(Math.max(...(r.gradCam?.values ?? [])))
    expect(tf.memory().numTensors).toBe(before)
    const m = (await methods['inspect:saliency'].handler({ runDir: store.dir('mlp'), input: { kind: 'pixels', pixels } }, ctx)) as { gradCam: unknown }
    expect(m.gradCam).toBeNull()
    model.dispose()
    mlp.dispose()
    tmp.cleanup()
  })
})
