import { WorkbenchError } from '../contract/errors'
import { summarizeModel } from './shape-inference'
import { MODEL_FORMAT, modelSpecSchema } from './spec'
import type { InputShape, LayerInput, ModelSpec } from './spec'

/** A ready-made architecture a learner can start from. */
export interface Preset {
  id: string
  title: string
  /** Where the architecture comes from and what it teaches. */
  note: string
  spec: ModelSpec
}

const MNIST_INPUT: InputShape = { channels: 1, height: 28, width: 28 }
const CIFAR_INPUT: InputShape = { channels: 3, height: 32, width: 32 }

function build(
  name: string,
  input: InputShape,
  layers: LayerInput[],
  description: string
): ModelSpec {
  return modelSpecSchema.parse({ format: MODEL_FORMAT, name, description, input, layers })
}

function conv(filters: number, kernelSize: number, rest: Partial<LayerInput> = {}): LayerInput {
  return { type: 'conv2d', filters, kernelSize, activation: 'relu', ...rest } as LayerInput
}

const maxPool: LayerInput = { type: 'maxPool2d', poolSize: 2 }
const avgPool: LayerInput = { type: 'avgPool2d', poolSize: 2 }
const flatten: LayerInput = { type: 'flatten' }
const relu = (units: number): LayerInput => ({ type: 'dense', units, activation: 'relu' })
const logits = (units: number): LayerInput => ({ type: 'dense', units })

function definePresets(): Preset[] {
  const items: Array<Omit<Preset, 'spec'> & { input: InputShape; layers: LayerInput[] }> = [
    {
      id: 'mlp',
      title: 'Multilayer perceptron',
      note:
        'A plain fully connected network as in early MNIST benchmarks. It sees pixels as a flat ' +
        'list, so it has many weights and no notion of neighbouring pixels: a baseline for CNNs.',
      input: MNIST_INPUT,
      layers: [flatten, relu(512), relu(256), relu(128), logits(10)]
    },
    {
      id: 'lenet',
      title: 'LeNet (modern, 3×3)',
      note:
        'LeNet-shaped network with small 3×3 kernels, ReLU and max pooling, the way it is usually ' +
        'taught today. Shows how convolution and pooling shrink the image while adding channels.',
      input: MNIST_INPUT,
      layers: [
        conv(6, 3, { padding: 1 }),
        maxPool,
        conv(16, 3, { padding: 1 }),
        maxPool,
        flatten,
        relu(120),
        relu(84),
        logits(10)
      ]
    },
    {
      id: 'lenet5',
      title: 'LeNet-5 (LeCun et al. 1998)',
      note:
        'The classic LeNet-5: 5×5 kernels, tanh and average pooling ("subsampling"), padded so ' +
        '28×28 MNIST digits behave like the original 32×32 input. A piece of history that still trains well.',
      input: MNIST_INPUT,
      layers: [
        conv(6, 5, { padding: 2, activation: 'tanh' }),
        avgPool,
        conv(16, 5, { activation: 'tanh' }),
        avgPool,
        conv(120, 5, { activation: 'tanh' }),
        flatten,
        { type: 'dense', units: 84, activation: 'tanh' },
        logits(10)
      ]
    },
    {
      id: 'lenet-relu',
      title: 'LeNet with ReLU',
      note:
        'The d2l.ai-style LeNet variant with 3×3 kernels, padding 2 and ReLU. Compare it with ' +
        'LeNet-5 to see what ReLU and max pooling change in speed of learning.',
      input: MNIST_INPUT,
      layers: [
        conv(6, 3, { padding: 2 }),
        maxPool,
        conv(16, 3),
        maxPool,
        flatten,
        relu(120),
        relu(84),
        logits(10)
      ]
    },
    {
      id: 'cnn3',
      title: 'Three conv blocks',
      note:
        'Three conv + pool blocks doubling the channels (16, 32, 64), the pattern of VGG-style ' +
        'networks: each block halves the image and widens the features.',
      input: MNIST_INPUT,
      layers: [
        conv(16, 3, { padding: 1 }),
        maxPool,
        conv(32, 3, { padding: 1 }),
        maxPool,
        conv(64, 3, { padding: 1 }),
        maxPool,
        flatten,
        relu(128),
        logits(10)
      ]
    },
    {
      id: 'convnet',
      title: 'Small ConvNet',
      note:
        'Two 3×3 convolutions with "same" padding and one pooling step, as in the Keras and ' +
        'TensorFlow.js MNIST examples. Most of its weights sit in the final dense layer.',
      input: MNIST_INPUT,
      layers: [
        conv(32, 3, { padding: 'same' }),
        conv(32, 3, { padding: 'same' }),
        maxPool,
        flatten,
        logits(10)
      ]
    },
    {
      id: 'cifar-convnet',
      title: 'CIFAR-10 ConvNet',
      note:
        'A compact network for 32×32 colour images in the spirit of the Keras CIFAR-10 example: ' +
        'four 3×3 convolutions, pooling after three of them, and a 512-unit dense layer.',
      input: CIFAR_INPUT,
      layers: [
        conv(32, 3, { padding: 'same' }),
        conv(32, 3, { padding: 'same' }),
        maxPool,
        conv(32, 3, { padding: 'same' }),
        maxPool,
        conv(32, 3, { padding: 'same' }),
        maxPool,
        flatten,
        relu(512),
        logits(10)
      ]
    }
  ]
  return items.map(({ id, title, note, input, layers }) => ({
    id,
    title,
    note,
    spec: build(id, input, layers, note)
  }))
}

/** All built-in presets, in the order the UI lists them. */
export const PRESETS: readonly Preset[] = Object.freeze(definePresets())

/** Looks up a preset by id; throws UNKNOWN_PRESET listing the valid ids. */
export function getPreset(id: string): Preset {
  const preset = PRESETS.find((p) => p.id === id)
  if (!preset) {
    const valid = PRESETS.map((p) => p.id).join(', ')
    throw new WorkbenchError(
      'UNKNOWN_PRESET',
      `There is no preset "${id}". Choose one of: ${valid}.`,
      {
        id,
        valid: PRESETS.map((p) => p.id)
      }
    )
  }
  return preset
}

/**
 * Fits a spec to a dataset's input shape and class count by changing the input and the units of
 * the last dense layer. The note says what changed, or why the result still cannot be trained.
 */
export function adaptPresetToInput(
  spec: ModelSpec,
  input: InputShape,
  numClasses: number
): { spec: ModelSpec; note?: string } {
  const changes: string[] = []
  const sameInput =
    spec.input.channels === input.channels &&
    spec.input.height === input.height &&
    spec.input.width === input.width
  if (!sameInput) {
    changes.push(`input ${input.channels}×${input.height}×${input.width}`)
  }
  let lastDense = -1
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'dense') lastDense = i
  })
  const layers = spec.layers.map((layer, i) => {
    if (i === lastDense && layer.type === 'dense' && layer.units !== numClasses) {
      changes.push(`${numClasses} output classes`)
      return { ...layer, units: numClasses }
    }
    return { ...layer }
  })
  const adapted: ModelSpec = { ...spec, input: { ...input }, layers }

  const problems: string[] = []
  if (lastDense < 0) problems.push('it has no dense layer to give one score per class')
  const summary = summarizeModel(adapted)
  const first = summary.errors[0]
  if (first && problems.length === 0) problems.push(`layer ${first.index + 1}: ${first.message}`)

  if (problems.length > 0) {
    const target = `${input.channels}×${input.height}×${input.width} images with ${numClasses} classes`
    return {
      spec: adapted,
      note: `"${spec.name}" does not fit ${target}: ${problems[0]}. Edit the layers before training.`
    }
  }
  if (changes.length === 0) return { spec: adapted }
  return { spec: adapted, note: `Adapted "${spec.name}" to ${changes.join(' and ')}.` }
}
