import { describe, expect, it } from 'vitest'
import { parseModelFile } from './model-file'
import { expectedWeightShapes } from './weight-shapes'

describe('expectedWeightShapes', () => {
  it('lists every weight in engine order with NHWC kernel shapes', () => {
    const spec = parseModelFile({
      format: 'cnn-workbench.model/1',
      name: 'small',
      input: { channels: 3, height: 8, width: 8 },
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: [3, 5], padding: 'same' },
        { type: 'batchNorm' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10, useBias: false }
      ]
    })
    expect(expectedWeightShapes(spec)?.map((s) => [s.part, s.shape])).toEqual([
      ['kernel', [3, 5, 3, 4]],
      ['bias', [4]],
      ['gamma', [4]],
      ['beta', [4]],
      ['moving_mean', [4]],
      ['moving_variance', [4]],
      ['kernel', [64, 10]]
    ])
  })

  it('is null when the layers do not fit together', () => {
    const spec = parseModelFile({
      format: 'cnn-workbench.model/1',
      name: 'broken',
      input: { channels: 1, height: 4, width: 4 },
      layers: [{ type: 'conv2d', filters: 2, kernelSize: 9 }, { type: 'flatten' }, { type: 'dense', units: 2 }]
    })
    expect(expectedWeightShapes(spec)).toBeNull()
  })
})
