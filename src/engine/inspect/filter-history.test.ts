import { describe, expect, it } from 'vitest'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { tf } from '../tf'
import { buildModel, snapshotWeights } from '../model'
import { createInspectMethods } from '../methods/inspect-run'
import { RunStore } from '../../data/runs/run-store'
import { getPreset } from '../../shared/model/presets'
import { tempDir } from '../../../test/helpers'
import type { MethodContext } from '../methods/types'
import type { WeightTensor } from '../../shared/engine-protocol'

const ctx: MethodContext = {
  progress: () => undefined,
  signal: new AbortController().signal,
  loadDataset: () => Promise.reject(new Error('no dataset in this test'))
}

type FiltersReply = {
  conv: Array<{ weights: number[] }>
  dense: { templates: number[][] } | null
  epoch: number
  latestEpoch: number
  snapshots: number[]
}

/** The same weights with every value scaled, as if another epoch had changed them. */
const scaled = (weights: WeightTensor[], k: number): WeightTensor[] =>
  weights.map((w) => ({ ...w, data: w.data.map((v) => v * k) }))

describe('filter history kept in a run', () => {
  it('keeps only the conv kernels after each epoch and shows any kept epoch', async () => {
    await tf.setBackend('cpu')
    const tmp = tempDir()
    const spec = getPreset('lenet5').spec
    const model = buildModel(spec, 1, 'filters-history')
    const w1 = await snapshotWeights(model)
    const w2 = scaled(w1, 2)
    const store = new RunStore(tmp.dir)
    for (const [epoch, w] of [[1, w1], [2, w2]] as const) {
      await store.writeCheckpoint('r', spec, w, epoch)
      await store.writeFilterSnapshot('r', epoch, w)
    }
    const dir = join(store.dir('r'), 'filters')
    expect((await readdir(dir)).sort()).toEqual(['epoch-1.bin', 'epoch-2.bin', 'index.json'])
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
    expect(index.epochs).toEqual([1, 2])
    // lenet5 has three conv layers (the last one 5×5 → 1×1), and nothing else is kept.
    expect(index.tensors.map((t: { shape: number[] }) => t.shape)).toEqual([[5, 5, 1, 6], [5, 5, 6, 16], [5, 5, 16, 120]])
    expect((await readFile(join(dir, 'epoch-1.bin'))).byteLength).toBe((150 + 2400 + 48_000) * 4)

    const methods = createInspectMethods()
    const latest = (await methods['inspect:filters'].handler({ runDir: store.dir('r') }, ctx)) as FiltersReply
    const first = (await methods['inspect:filters'].handler({ runDir: store.dir('r'), epoch: 1 }, ctx)) as FiltersReply
    expect(latest).toMatchObject({ epoch: 2, latestEpoch: 2, snapshots: [1, 2] })
    expect(first).toMatchObject({ epoch: 1, latestEpoch: 2, snapshots: [1, 2] })
    expect(first.conv[1].weights[7] * 2).toBeCloseTo(latest.conv[1].weights[7], 5)
    expect(first.conv[0].weights).not.toEqual(latest.conv[0].weights)
    await expect(methods['inspect:filters'].handler({ runDir: store.dir('r'), epoch: 5 }, ctx)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/epochs 1, 2/)
    })
    model.dispose()
    tmp.cleanup()
  })

  it('keeps the first dense kernel of a model without convolutions, and says when a run kept none', async () => {
    await tf.setBackend('cpu')
    const tmp = tempDir()
    const spec = getPreset('mlp').spec
    const model = buildModel(spec, 1, 'filters-history-mlp')
    const w1 = await snapshotWeights(model)
    const store = new RunStore(tmp.dir)
    await store.writeCheckpoint('old', spec, w1, 1)
    const methods = createInspectMethods()
    const none = (await methods['inspect:filters'].handler({ runDir: store.dir('old') }, ctx)) as FiltersReply
    expect(none.snapshots).toEqual([])
    await expect(methods['inspect:filters'].handler({ runDir: store.dir('old'), epoch: 0 }, ctx)).rejects.toMatchObject({ code: 'NOT_FOUND' })

    await store.writeFilterSnapshot('old', 1, w1)
    await store.writeCheckpoint('old', spec, scaled(w1, -1), 2)
    await store.writeFilterSnapshot('old', 2, scaled(w1, -1))
    const index = JSON.parse(await readFile(join(store.dir('old'), 'filters', 'index.json'), 'utf8'))
    expect(index.tensors).toHaveLength(1)
    // Only the 64 units drawn as templates are kept: 784 × 64 of the 784 × 512 kernel.
    expect(index.tensors[0].shape).toEqual([784, 64])
    expect((await readFile(join(store.dir('old'), 'filters', 'epoch-1.bin'))).byteLength).toBe(784 * 64 * 4)
    const first = (await methods['inspect:filters'].handler({ runDir: store.dir('old'), epoch: 1 }, ctx)) as FiltersReply
    const second = (await methods['inspect:filters'].handler({ runDir: store.dir('old'), epoch: 2 }, ctx)) as FiltersReply
    expect(second.dense?.templates[3][200]).toBeCloseTo(-(first.dense?.templates[3][200] ?? 0), 6)
    expect(first.dense?.templates[63][700]).toBeCloseTo(w1[0].data[700 * 512 + 63], 6)
    expect(second.dense?.templates[63][700]).toBeCloseTo(-w1[0].data[700 * 512 + 63], 6)
    model.dispose()
    tmp.cleanup()
  })
})
