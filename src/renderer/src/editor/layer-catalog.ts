import type { Activation, Layer, LayerType } from '../../../shared/model/spec'
import type { FieldKind } from './field-parse'

/** One editable field of a layer, as the row shows it. */
export interface FieldDef {
  key: string
  label: string
  kind: FieldKind | 'activation' | 'bool'
  /** Shown as the field's tooltip and placeholder: what the value means. */
  hint: string
  placeholder?: string
}

/** What the palette and the help panel teach about a layer type. */
export interface LayerKind {
  type: LayerType
  title: string
  /** One line for the palette. */
  short: string
  /** What the layer does, in a few sentences. */
  explain: string
  /** Its settings, one line each. */
  settings: string[]
  /** How the output size follows from the input size. */
  outputFormula: string
  /** How its parameters are counted. */
  paramsFormula: string
  /** The layer a new row starts with. */
  make: () => Layer
  fields: FieldDef[]
}

export const ACTIVATIONS: Array<{ value: Activation; label: string }> = [
  { value: 'relu', label: 'ReLU' },
  { value: 'leakyRelu', label: 'LeakyReLU' },
  { value: 'elu', label: 'ELU' },
  { value: 'tanh', label: 'tanh' },
  { value: 'sigmoid', label: 'sigmoid' },
  { value: 'linear', label: 'none (linear)' }
]

const SIZE_HINT = 'a whole number n (n×n) or height×width, e.g. 3 or 3×5'
const activationField: FieldDef = {
  key: 'activation',
  label: 'activation',
  kind: 'activation',
  hint: 'the function applied to every output value'
}
const biasField: FieldDef = {
  key: 'useBias',
  label: 'bias',
  kind: 'bool',
  hint: 'add one learned offset per output'
}

const POOL_SETTINGS = [
  'pool size: the window, n×n or h×w.',
  'stride: how far the window moves; empty means the pool size, so windows do not overlap.'
]
const POOL_FORMULA = 'out = floor((in − pool) / stride) + 1, for height and width; channels stay.'
const poolFields: FieldDef[] = [
  { key: 'poolSize', label: 'pool', kind: 'size', hint: `window size: ${SIZE_HINT}` },
  {
    key: 'stride',
    label: 'stride',
    kind: 'optionalSize',
    hint: 'step between windows; empty means the pool size',
    placeholder: '= pool'
  }
]

/** Every layer type the editor offers, in palette order. */
export const LAYER_KINDS: LayerKind[] = [
  {
    type: 'conv2d',
    title: 'Convolution',
    short: 'Slides small learned filters over the image.',
    explain:
      'Each filter is a small grid of weights that slides across the image and, at every ' +
      'position, multiplies the pixels under it by its weights and adds them up. One filter ' +
      'finds one kind of pattern (an edge, a curve) anywhere in the image and produces one ' +
      'output channel, so the number of filters is the number of channels that come out.',
    settings: [
      'filters: how many patterns to learn = output channels.',
      'kernel: the filter size, n×n or h×w (3×3 is the usual choice).',
      'stride: how far the filter moves each step; 2 halves the image.',
      'padding: zeros added around the border; "same" keeps the size at stride 1.',
      'activation: applied to every output; ReLU is the usual choice.'
    ],
    outputFormula:
      'out = floor((in + 2·padding − kernel) / stride) + 1, for height and width; channels = filters. ' +
      '"same": out = ceil(in / stride).',
    paramsFormula: 'filters × (in channels × kernel h × kernel w) + filters (one bias each)',
    make: () => ({
      type: 'conv2d',
      filters: 16,
      kernelSize: 3,
      stride: 1,
      padding: 1,
      activation: 'relu',
      useBias: true
    }),
    fields: [
      { key: 'filters', label: 'filters', kind: 'int', hint: 'number of filters = output channels' },
      { key: 'kernelSize', label: 'kernel', kind: 'size', hint: `filter size: ${SIZE_HINT}` },
      { key: 'stride', label: 'stride', kind: 'size', hint: `step of the filter: ${SIZE_HINT}` },
      {
        key: 'padding',
        label: 'padding',
        kind: 'padding',
        hint: '"valid" (none), "same" (keep the size) or pixels of zeros on every side'
      },
      activationField,
      biasField
    ]
  },
  {
    type: 'maxPool2d',
    title: 'Max pooling',
    short: 'Keeps the largest value of each window.',
    explain:
      'Looks at each small window of every channel and keeps only its largest value. The image ' +
      'gets smaller and a feature still counts when it moves by a pixel or two. It learns nothing.',
    settings: POOL_SETTINGS,
    outputFormula: POOL_FORMULA,
    paramsFormula: '0: pooling has no weights.',
    make: () => ({ type: 'maxPool2d', poolSize: 2 }),
    fields: poolFields
  },
  {
    type: 'avgPool2d',
    title: 'Average pooling',
    short: 'Keeps the mean of each window.',
    explain:
      'Like max pooling, but keeps the average of each window: a smoother way to shrink the ' +
      'image, used as "subsampling" in the original LeNet-5. It learns nothing.',
    settings: POOL_SETTINGS,
    outputFormula: POOL_FORMULA,
    paramsFormula: '0: pooling has no weights.',
    make: () => ({ type: 'avgPool2d', poolSize: 2 }),
    fields: poolFields
  },
  {
    type: 'flatten',
    title: 'Flatten',
    short: 'Lays the channels × height × width values out in one row.',
    explain:
      'Dense layers take a flat list of numbers, so flatten unrolls the image-shaped tensor into ' +
      'one long vector. Nothing is learned or lost; only the shape changes.',
    settings: ['No settings.'],
    outputFormula: 'out = channels × height × width.',
    paramsFormula: '0.',
    make: () => ({ type: 'flatten' }),
    fields: []
  },
  {
    type: 'dense',
    title: 'Dense (fully connected)',
    short: 'Every output sees every input.',
    explain:
      'Each unit multiplies every input value by its own weight, adds them up with a bias, and ' +
      'applies the activation. The last dense layer gives one score per class: give it as many ' +
      'units as the dataset has classes and no activation (the loss applies softmax).',
    settings: [
      'units: how many outputs.',
      'activation: ReLU for hidden layers, none for the last layer.'
    ],
    outputFormula: 'out = units.',
    paramsFormula: 'units × inputs + units (one bias each).',
    make: () => ({ type: 'dense', units: 128, activation: 'relu', useBias: true }),
    fields: [
      { key: 'units', label: 'units', kind: 'int', hint: 'number of outputs' },
      activationField,
      biasField
    ]
  },
  {
    type: 'dropout',
    title: 'Dropout',
    short: 'Randomly zeroes values while training.',
    explain:
      'During training it sets a random fraction of its inputs to zero (and scales up the rest), ' +
      'so the network cannot rely on any single feature: a cheap guard against overfitting. ' +
      'When testing it passes everything through.',
    settings: ['rate: the fraction dropped, from 0 up to 1 (0.25 to 0.5 is common).'],
    outputFormula: 'out = in (same shape).',
    paramsFormula: '0.',
    make: () => ({ type: 'dropout', rate: 0.25 }),
    fields: [{ key: 'rate', label: 'rate', kind: 'rate', hint: 'fraction of values set to zero' }]
  },
  {
    type: 'batchNorm',
    title: 'Batch normalization',
    short: 'Rescales each channel to mean 0, spread 1.',
    explain:
      'Normalizes each channel over the batch, then applies a learned scale (gamma) and shift ' +
      '(beta). It keeps the numbers in a healthy range so deeper networks train faster. It also ' +
      'tracks running averages for testing, which are counted as non-trainable parameters.',
    settings: ['No settings: one gamma and one beta per channel.'],
    outputFormula: 'out = in (same shape).',
    paramsFormula: '2 × channels trainable (gamma, beta) + 2 × channels non-trainable (running mean, variance).',
    make: () => ({ type: 'batchNorm' }),
    fields: []
  },
  {
    type: 'activation',
    title: 'Activation',
    short: 'Applies a function to every value.',
    explain:
      'A nonlinearity on its own row, for when it should come after another layer such as batch ' +
      'normalization. Without nonlinearities a stack of layers would be one big linear map.',
    settings: ['function: ReLU, LeakyReLU, ELU, tanh, sigmoid or none.'],
    outputFormula: 'out = in (same shape).',
    paramsFormula: '0.',
    make: () => ({ type: 'activation', fn: 'relu' }),
    fields: [{ key: 'fn', label: 'function', kind: 'activation', hint: 'the function applied' }]
  }
]

/** The catalog entry of a layer type. */
export function kindOf(type: LayerType): LayerKind {
  const kind = LAYER_KINDS.find((k) => k.type === type)
  if (!kind) throw new Error(`no catalog entry for ${type}`)
  return kind
}
