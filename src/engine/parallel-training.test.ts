import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { chooseThreads, PARALLEL_MIN_BATCH } from './parallel-training'
import { getPreset } from '../shared/model/presets'
import { hyperSchema } from '../shared/hyper'
import { modelSpecSchema } from '../shared/model/spec'

const lenet = getPreset('lenet').spec
const withBatchNorm = modelSpecSchema.parse({
  ...lenet,
  layers: [lenet.layers[0], { type: 'batchNorm' }, ...lenet.layers.slice(1)]
})
const hyper = (batchSize: number) => hyperSchema.parse({ batchSize })

describe('chooseThreads', () => {
  it('uses the cores on wasm and cpu from the minimum batch, 32 samples a thread at least', () => {
    const cores = availableParallelism()
    expect(chooseThreads(lenet, hyper(PARALLEL_MIN_BATCH), 'wasm')).toBe(Math.min(cores, 2))
    expect(chooseThreads(lenet, hyper(128), 'cpu')).toBe(Math.min(cores, 4))
    expect(chooseThreads(lenet, hyper(4096), 'wasm')).toBe(Math.min(cores, 8))
    expect(chooseThreads(lenet, hyper(16), 'wasm')).toBe(1)
  })

  it('keeps one thread for batch norm and for backends that run off the main thread', () => {
    expect(chooseThreads(withBatchNorm, hyper(128), 'wasm', 2)).toBe(1)
    expect(chooseThreads(lenet, hyper(128), 'tensorflow')).toBe(1)
    expect(chooseThreads(lenet, hyper(128), 'webgpu')).toBe(1)
  })

  it('lets an explicit request override the batch rule', () => {
    expect(chooseThreads(lenet, hyper(16), 'wasm', 2)).toBe(2)
  })
})
