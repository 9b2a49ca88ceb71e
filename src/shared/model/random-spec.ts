import { summarizeModel } from './shape-inference'
import { MODEL_FORMAT, modelSpecSchema } from './spec'
import type { Activation, LayerInput, ModelSpec } from './spec'
import { seededRandom as rng } from '../random'

/**
 * Seeded random architectures (every layer type, odd sizes, strides, paddings), shared by the
 * PyTorch parity tests and the weight round-trip tests.
 */
const ACTIVATIONS: Activation[] = ['relu', 'tanh', 'sigmoid', 'leakyRelu', 'elu', 'linear']

/** One random sequential architecture (it may not fit together; see randomSpecs). */
export function randomSpec(random: () => number, name: string): ModelSpec {
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  const size = (lo: number, hi: number): number | [number, number] =>
    random() < 0.7 ? int(lo, hi) : [int(lo, hi), int(lo, hi)]
  const layers: LayerInput[] = []
  for (let n = int(0, 5); n > 0; n--) {
    const r = random()
    if (r < 0.55) {
      const stride = random() < 0.6 ? 1 : size(1, 3)
      const unitStride =
        stride === 1 || (Array.isArray(stride) && stride[0] === 1 && stride[1] === 1)
      const padding = unitStride && random() < 0.25 ? 'same' : pick(['valid', 0, 1, 2] as const)
      layers.push({
        type: 'conv2d',
        filters: int(1, 8),
        kernelSize: size(1, 5),
        stride,
        padding,
        activation: pick(ACTIVATIONS),
        useBias: random() < 0.8
      })
    } else if (r < 0.8) {
      const layer: LayerInput = {
        type: pick(['maxPool2d', 'avgPool2d'] as const),
        poolSize: size(1, 3)
      }
      if (random() < 0.4) layer.stride = size(1, 3)
      layers.push(layer)
    } else if (r < 0.9) {
      layers.push({ type: 'batchNorm' })
    } else if (r < 0.95) {
      layers.push({ type: 'dropout', rate: 0.25 })
    } else {
      layers.push({ type: 'activation', fn: pick(ACTIVATIONS) })
    }
  }
  layers.push({ type: 'flatten' })
  if (random() < 0.1) layers.push({ type: 'flatten' })
  for (let n = int(0, 2); n > 0; n--) {
    const r = random()
    if (r < 0.6) layers.push({ type: 'dense', units: int(2, 40), activation: pick(ACTIVATIONS) })
    else if (r < 0.8) layers.push({ type: 'batchNorm' })
    else if (r < 0.9) layers.push({ type: 'dropout', rate: 0.5 })
    else layers.push({ type: 'activation', fn: pick(ACTIVATIONS) })
  }
  layers.push({ type: 'dense', units: int(2, 12), activation: pick(ACTIVATIONS) })
  const input = { channels: int(1, 3), height: int(4, 32), width: int(4, 32) }
  return modelSpecSchema.parse({ format: MODEL_FORMAT, name, input, layers })
}

/** Random architectures: those we accept, plus some our inference rejects for a shape error. */
export function randomSpecs(seed: number, valid: number, withErrors: number): ModelSpec[] {
  const random = rng(seed)
  const good: ModelSpec[] = []
  const bad: ModelSpec[] = []
  for (let n = 0; good.length < valid && n < valid * 20; n++) {
    const spec = randomSpec(random, `random-${seed}-${n}`)
    const errors = summarizeModel(spec).errors
    if (errors.length === 0) good.push(spec)
    else if (bad.length < withErrors && errors[0].field !== undefined) bad.push(spec)
  }
  return [...good, ...bad]
}
