import { describe, expect, it } from 'vitest'
import { WorkbenchError } from '../contract/errors'
import { parseModelFile, serializeModel } from './model-file'
import { PRESETS } from './presets'
import { summarizeModel } from './shape-inference'
import { MODEL_FORMAT } from './spec'
import { seededRandom as rng } from '../random'

const VALID = {
  format: MODEL_FORMAT,
  name: 'tiny',
  input: { channels: 1, height: 28, width: 28 },
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3 },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10 }
  ]
}

function withLayer(index: number, layer: unknown): unknown {
  const layers: unknown[] = [...VALID.layers]
  layers[index] = layer
  return { ...VALID, layers }
}

function errorOf(input: unknown): WorkbenchError {
  try {
    parseModelFile(input)
  } catch (err) {
    expect(err).toBeInstanceOf(WorkbenchError)
    expect((err as WorkbenchError).code).toBe('INVALID_MODEL')
    return err as WorkbenchError
  }
  throw new Error('expected parseModelFile to throw')
}

describe('parseModelFile', () => {
  it('reads a valid file and fills in defaults', () => {
    const spec = parseModelFile(JSON.stringify(VALID))
    expect(spec.layers[0]).toEqual({
      type: 'conv2d',
      filters: 4,
      kernelSize: 3,
      stride: 1,
      padding: 'valid',
      activation: 'linear',
      useBias: true
    })
    expect(parseModelFile(VALID)).toEqual(spec)
    expect(parseModelFile(`\uFEFF${JSON.stringify(VALID)}`)).toEqual(spec)
  })

  it('names the field path of a bad value', () => {
    const err = errorOf(withLayer(2, { type: 'conv2d', filters: -3, kernelSize: 3 }))
    expect(err.message).toContain('layers.2.filters: must be at least 1 (got -3)')
  })

  it('rejects absurd sizes with the maximum', () => {
    const err = errorOf(withLayer(0, { type: 'conv2d', filters: 1e9, kernelSize: 3 }))
    expect(err.message).toContain('layers.0.filters: must be at most 1000000 (got 1000000000)')
  })

  it('names unknown fields, in layers and at the top', () => {
    const inLayer = errorOf(withLayer(3, { type: 'dense', units: 10, unitz: 3 }))
    expect(inLayer.message).toContain('layers.3.unitz: unknown field; a dense layer has')
    const top = errorOf({ ...VALID, optimizer: 'adam' })
    expect(top.message).toContain('optimizer: unknown field')
  })

  it('explains unknown layer types, bad sizes, padding and activations', () => {
    expect(errorOf(withLayer(1, { type: 'maxpool', poolSize: 2 })).message).toContain(
      'layers.1.type: unknown layer type "maxpool"; use one of conv2d, maxPool2d'
    )
    expect(errorOf(withLayer(1, { type: 'maxPool2d', poolSize: [2] })).message).toContain(
      'layers.1.poolSize: must be a positive whole number or a [height, width] pair'
    )
    expect(
      errorOf(withLayer(0, { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'full' })).message
    ).toContain('layers.0.padding: must be "valid", "same" or a whole number')
    expect(
      errorOf(withLayer(0, { type: 'conv2d', filters: 2, kernelSize: 3, activation: 'gelu' }))
        .message
    ).toContain('layers.0.activation: must be one of "relu"')
    expect(
      errorOf(withLayer(0, { type: 'conv2d', filters: 2.5, kernelSize: 3 })).message
    ).toContain('layers.0.filters: must be a whole number (got 2.5)')
    expect(errorOf({ ...VALID, name: undefined }).message).toContain('name: is required')
  })

  it('reports JSON syntax errors with a position', () => {
    const text = JSON.stringify(VALID)
    const truncated = errorOf(text.slice(0, 57))
    expect(truncated.message).toContain('not valid JSON (truncated?) at position 57')
    const broken = errorOf('{\n  "format": "x",\n  "name" "a"\n}')
    expect(broken.message).toContain('not valid JSON at position 28 (line 3, column 10)')
    expect(broken.message).toContain("expected ':'")
    expect(errorOf('{"a":1}x').message).toContain('at position 7')
    expect(errorOf('').message).toContain('empty')
    expect(errorOf('[1,2]').message).toContain('holds a list, not a model')
  })

  it('says when a file comes from a newer version', () => {
    const err = errorOf({ ...VALID, format: 'cnn-workbench.model/2' })
    expect(err.message).toContain('made by a newer version')
    expect(errorOf({ ...VALID, format: 'keras' }).message).toContain('not a CNN Workbench model')
    expect(errorOf({ ...VALID, format: undefined }).message).toContain('format: is required')
  })

  // No wall-clock assertion (timed tests flake on a loaded machine); the timeout catches a stall.
  it('refuses huge inputs by their size, without stalling', { timeout: 30_000 }, () => {
    const many = { ...VALID, layers: Array.from({ length: 100_000 }, () => ({ type: 'flatten' })) }
    expect(errorOf(many).message).toContain('layers: has too many entries (at most 200)')
    expect(errorOf('['.repeat(1_000_000)).message).toContain('truncated')
    expect(errorOf(' '.repeat(3_000_000)).message).toContain('at most 2000000')
  })
})

describe('serializeModel', () => {
  it('round-trips every preset', () => {
    for (const { spec } of PRESETS) {
      const text = serializeModel(spec)
      expect(text.startsWith(`{\n  "format": "${MODEL_FORMAT}"`)).toBe(true)
      expect(parseModelFile(text)).toEqual(spec)
    }
  })
})


const WEIRD_VALUES: unknown[] = [
  null,
  -1,
  0,
  1,
  2.5,
  1e9,
  1e308,
  -0,
  'same',
  'valid',
  '',
  'relu',
  [],
  [3],
  [3, 3],
  [0, 2],
  [3, 3, 3],
  {},
  true,
  'conv2d',
  'dense',
  'flatten',
  { type: 'flatten' },
  Number.MAX_SAFE_INTEGER
]

function mutate(value: unknown, random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  if (random() < 0.15 || depth > 6) return pick(WEIRD_VALUES)
  if (Array.isArray(value)) {
    const copy = value.map((v) => (random() < 0.3 ? mutate(v, random, depth + 1) : v))
    if (random() < 0.2) copy.splice(Math.floor(random() * (copy.length + 1)), 0, pick(WEIRD_VALUES))
    if (random() < 0.2) copy.splice(Math.floor(random() * copy.length), 1)
    return copy
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) }
    for (const key of Object.keys(copy)) {
      if (random() < 0.25) copy[key] = mutate(copy[key], random, depth + 1)
      else if (random() < 0.05) delete copy[key]
    }
    if (random() < 0.05) copy[pick(['extra', 'stride', 'padding', 'units'])] = pick(WEIRD_VALUES)
    return copy
  }
  return value
}

describe('model file fuzzing', () => {
  // No wall-clock assertion (timed tests flake on a loaded machine): a file that stalls the
  // parser makes this test run into its timeout instead.
  it(
    'throws only WorkbenchError, and never stalls, for 1000 mutated files',
    { timeout: 60_000 },
    () => {
      const random = rng(1234)
      const sources = [VALID, ...PRESETS.map((p) => JSON.parse(serializeModel(p.spec)))]
      let accepted = 0
      for (let n = 0; n < 1000; n++) {
        const base = sources[n % sources.length]
        const mutated = mutate(base, random)
        let input: unknown = mutated
        const mode = n % 4
        if (mode === 1) input = JSON.stringify(mutated)
        if (mode === 2) {
          const text = JSON.stringify(mutated, null, 1)
          input = text.slice(0, Math.floor(random() * text.length))
        }
        if (mode === 3) {
          const chars = [...JSON.stringify(mutated)]
          for (let k = 0; k < 3; k++) chars[Math.floor(random() * chars.length)] = pick(random)
          input = chars.join('')
        }
        try {
          const spec = parseModelFile(input)
          accepted++
          summarizeModel(spec)
        } catch (err) {
          if (!(err instanceof WorkbenchError)) {
            throw new Error(
              `case ${n} threw ${String(err)} for ${JSON.stringify(input).slice(0, 300)}`
            )
          }
          expect(err.code).toBe('INVALID_MODEL')
          expect(err.message.length).toBeGreaterThan(10)
        }
      }
      expect(accepted).toBeGreaterThan(20)
    }
  )
})

function pick(random: () => number): string {
  const chars = '{}[]",:0123456789 -.eatrue'
  return chars[Math.floor(random() * chars.length)]
}
