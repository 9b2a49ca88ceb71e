import { describe, expect, it } from 'vitest'
import { WorkbenchError } from '../contract/errors'
import { adaptPresetToInput, getPreset, PRESETS } from './presets'
import { summarizeModel } from './shape-inference'

const EXPECTED_TOTALS: Record<string, number> = {
  mlp: 567_434,
  lenet: 106_154,
  lenet5: 61_706,
  'lenet-relu': 81_194,
  cnn3: 98_442,
  convnet: 72_298,
  'cifar-convnet': 296_426
}

describe('presets', () => {
  it('has exactly the documented presets', () => {
    expect(PRESETS.map((p) => p.id)).toEqual(Object.keys(EXPECTED_TOTALS))
  })

  for (const [id, total] of Object.entries(EXPECTED_TOTALS)) {
    it(`${id} has ${total} parameters and trains on 10 classes`, () => {
      const summary = summarizeModel(getPreset(id).spec)
      expect(summary.errors).toEqual([])
      expect(summary.totalParams).toBe(total)
      expect(summary.outputShape).toEqual([10])
    })
  }

  it('gives every preset a title and a note', () => {
    for (const p of PRESETS) {
      expect(p.title.length).toBeGreaterThan(3)
      expect(p.note.length).toBeGreaterThan(20)
    }
  })

  it('lists the valid ids for an unknown preset', () => {
    expect(() => getPreset('resnet')).toThrow(WorkbenchError)
    try {
      getPreset('resnet')
    } catch (err) {
      expect((err as WorkbenchError).code).toBe('UNKNOWN_PRESET')
      expect((err as WorkbenchError).message).toContain('mlp, lenet, lenet5')
    }
  })
})

describe('adaptPresetToInput', () => {
  it('leaves a fitting preset alone, without a note', () => {
    const { spec, note } = adaptPresetToInput(
      getPreset('lenet').spec,
      { channels: 1, height: 28, width: 28 },
      10
    )
    expect(note).toBeUndefined()
    expect(summarizeModel(spec).totalParams).toBe(106_154)
  })

  it('adapts input and class count and says so', () => {
    const original = getPreset('lenet').spec
    const { spec, note } = adaptPresetToInput(original, { channels: 3, height: 32, width: 32 }, 100)
    const summary = summarizeModel(spec)
    expect(summary.errors).toEqual([])
    expect(summary.outputShape).toEqual([100])
    expect(summary.layers[0].inputShape).toEqual([3, 32, 32])
    expect(note).toMatch(/input 3×32×32 and 100 output classes/)
    expect(original.input.channels).toBe(1)
  })

  it('explains when the adapted model has a shape error', () => {
    const { note } = adaptPresetToInput(
      getPreset('lenet5').spec,
      { channels: 1, height: 8, width: 8 },
      10
    )
    expect(note).toMatch(/does not fit 1×8×8 images with 10 classes: layer 3: kernel 5 is larger/)
  })
})
