import { describe, expect, it } from 'vitest'
import {
  estimateBatchMemory,
  isTrainable,
  layerLabel,
  numClassesOf,
  summarizeModel
} from './shape-inference'
import { MODEL_FORMAT, modelSpecSchema } from './spec'
import type { InputShape, LayerInput, ModelSpec } from './spec'

function spec(layers: LayerInput[], input: InputShape = { channels: 1, height: 28, width: 28 }) {
  return modelSpecSchema.parse({ format: MODEL_FORMAT, name: 't', input, layers }) as ModelSpec
}

describe('summarizeModel', () => {
  it('gives PyTorch shapes, params and formulas for a small CNN', () => {
    const s = summarizeModel(
      spec([
        { type: 'conv2d', filters: 6, kernelSize: 3, padding: 1, activation: 'relu' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10 }
      ])
    )
    expect(s.errors).toEqual([])
    expect(s.layers.map((l) => l.outputShape)).toEqual([[6, 28, 28], [6, 14, 14], [1176], [10]])
    expect(s.layers[0].inputShape).toEqual([1, 28, 28])
    expect(s.layers[0].paramsFormula).toBe('6 × (1 × 3 × 3) + 6 = 60')
    expect(s.layers[0].label).toBe('conv2d 6@3×3, pad 1, ReLU')
    expect(s.layers[0].macs).toBe(6 * 28 * 28 * 9)
    expect(s.layers[0].activations).toBe(6 * 28 * 28)
    expect(s.layers[3].paramsFormula).toBe('10 × 1176 + 10 = 11770')
    expect(s.totalParams).toBe(60 + 11770)
    expect(s.outputShape).toEqual([10])
    expect(isTrainable(s)).toBe(true)
    expect(numClassesOf(s)).toBe(10)
  })

  it('handles strides, rectangular kernels, same padding and no bias', () => {
    const s = summarizeModel(
      spec(
        [
          { type: 'conv2d', filters: 4, kernelSize: [3, 5], stride: [2, 1], useBias: false },
          { type: 'conv2d', filters: 8, kernelSize: 3, stride: 2, padding: 'same' },
          { type: 'avgPool2d', poolSize: 3, stride: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 3 }
        ],
        { channels: 3, height: 31, width: 20 }
      )
    )
    // floor((31 - 3) / 2) + 1 = 15, floor((20 - 5) / 1) + 1 = 16; same: ceil(15/2)=8, ceil(16/2)=8
    expect(s.layers.map((l) => l.outputShape)).toEqual([
      [4, 15, 16],
      [8, 8, 8],
      [8, 3, 3],
      [72],
      [3]
    ])
    expect(s.layers[0].params).toBe(4 * 3 * 3 * 5)
    expect(s.layers[0].paramsFormula).toBe('4 × (3 × 3 × 5) = 180')
  })

  it('counts batch norm running statistics as non-trainable, in 2-D and 1-D', () => {
    const s = summarizeModel(
      spec([
        { type: 'conv2d', filters: 8, kernelSize: 3 },
        { type: 'batchNorm' },
        { type: 'flatten' },
        { type: 'dense', units: 20 },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.5 },
        { type: 'activation', fn: 'elu' },
        { type: 'dense', units: 10 }
      ])
    )
    expect(s.errors).toEqual([])
    expect(s.layers[1].params).toBe(16)
    expect(s.layers[1].nonTrainableParams).toBe(16)
    expect(s.layers[4].params).toBe(40)
    expect(s.layers[4].nonTrainableParams).toBe(40)
    expect(s.nonTrainableParams).toBe(56)
    expect(s.totalParams).toBe(s.trainableParams + 56)
    expect(s.layers[6].label).toBe('ELU')
  })

  it('treats flatten on a flat input as a no-op', () => {
    const s = summarizeModel(
      spec([{ type: 'flatten' }, { type: 'flatten' }, { type: 'dense', units: 10 }])
    )
    expect(s.layers[1].outputShape).toEqual([784])
    expect(isTrainable(s)).toBe(true)
  })

  it('pins a too-large kernel to its layer with the failed arithmetic and stops', () => {
    const s = summarizeModel(
      spec(
        [
          { type: 'conv2d', filters: 6, kernelSize: 3 },
          { type: 'maxPool2d', poolSize: 2 },
          { type: 'conv2d', filters: 16, kernelSize: 5 },
          { type: 'flatten' },
          { type: 'dense', units: 10 }
        ],
        { channels: 1, height: 8, width: 8 }
      )
    )
    expect(s.errors).toEqual([
      {
        index: 2,
        field: 'kernelSize',
        message:
          'kernel 5 is larger than the 3 × 3 input left after pooling: floor((3 + 2·0 − 5) / 1) + 1 = −1'
      }
    ])
    expect(s.layers).toHaveLength(2)
    expect(s.outputShape).toBeNull()
    expect(isTrainable(s)).toBe(false)
    expect(numClassesOf(s)).toBeNull()
  })

  it('explains a pooling window larger than the image', () => {
    const s = summarizeModel(
      spec([{ type: 'maxPool2d', poolSize: 4 }, { type: 'flatten' }, { type: 'dense', units: 2 }], {
        channels: 1,
        height: 3,
        width: 9
      })
    )
    expect(s.errors[0].index).toBe(0)
    expect(s.errors[0].message).toBe(
      'pool size 4 is larger than the 3 × 9 model input: floor((3 − 4) / 4) + 1 = 0'
    )
  })

  it('tells the user to add a flatten before dense on an image', () => {
    const s = summarizeModel(
      spec([
        { type: 'conv2d', filters: 2, kernelSize: 3 },
        { type: 'dense', units: 10 }
      ])
    )
    expect(s.errors[0].index).toBe(1)
    expect(s.errors[0].message).toMatch(
      /dense needs a flat vector but receives 2 × 26 × 26: add a flatten/
    )
  })

  it('rejects convolution after flatten', () => {
    const s = summarizeModel(
      spec([{ type: 'flatten' }, { type: 'conv2d', filters: 2, kernelSize: 3 }])
    )
    expect(s.errors[0]).toMatchObject({ index: 1 })
    expect(s.errors[0].message).toMatch(/flat vector of 784/)
  })

  it('requires the last layer to give one score per class', () => {
    const s = summarizeModel(spec([{ type: 'conv2d', filters: 2, kernelSize: 3 }]))
    expect(s.errors).toHaveLength(1)
    expect(s.errors[0].index).toBe(0)
    expect(s.errors[0].message).toMatch(
      /the last layer must give one score per class.*add flatten and dense/
    )
    expect(s.layers).toHaveLength(1)
    expect(s.outputShape).toBeNull()
    const one = summarizeModel(spec([{ type: 'flatten' }, { type: 'dense', units: 1 }]))
    expect(isTrainable(one)).toBe(false)
  })

  it('labels layers briefly', () => {
    const [pool, dense] = spec([
      { type: 'maxPool2d', poolSize: 2, stride: 1 },
      { type: 'dense', units: 5, activation: 'tanh', useBias: false }
    ]).layers
    expect(layerLabel(pool)).toBe('maxPool 2×2, stride 1×1')
    expect(layerLabel(dense)).toBe('dense 5, tanh, no bias')
  })
})

describe('estimateBatchMemory', () => {
  it('counts weights, gradients, Adam state and activations in float32 bytes', () => {
    const s = summarizeModel(spec([{ type: 'flatten' }, { type: 'dense', units: 10 }]))
    const params = 7850
    const activations = 784 + 784 + 10
    expect(estimateBatchMemory(s, 1)).toBe(4 * (4 * params + 2 * activations))
    expect(estimateBatchMemory(s, 64) - estimateBatchMemory(s, 32)).toBe(4 * 2 * activations * 32)
  })
})
