import type { Activation, Layer, ModelSpec, Padding, Size } from './spec'
import type { LayerSummary, ModelSummary, Shape, ShapeError } from './summary-types'

const BYTES_PER_FLOAT32 = 4

const ACTIVATION_LABELS: Record<Activation, string> = {
  relu: 'ReLU',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  leakyRelu: 'LeakyReLU',
  elu: 'ELU',
  linear: 'linear'
}

type ImageShape = [number, number, number]

interface LayerResult {
  outputShape: Shape
  params: number
  nonTrainableParams: number
  paramsFormula: string
  macs: number
}

/** Thrown inside inference to stop at the first layer that cannot be built. */
class LayerProblem {
  constructor(
    readonly message: string,
    readonly field?: string
  ) {}
}

/** Splits an int-or-[h, w] size into its height and width. */
export function sizePair(size: Size): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]]
}

function sizeText(size: Size): string {
  const [h, w] = sizePair(size)
  return `${h}×${w}`
}

/** Formats a number with a true minus sign, as the arithmetic in error messages does. */
function num(n: number): string {
  return n < 0 ? `−${-n}` : String(n)
}

function isImage(shape: Shape): shape is ImageShape {
  return shape.length === 3
}

/** Number of values in a shape. */
export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** Formats a shape the way the layer table shows it, e.g. "6 × 28 × 28". */
export function formatShape(shape: Shape): string {
  return shape.join(' × ')
}

/** A short human label for a layer, e.g. "conv2d 6@3×3, pad 1, ReLU". */
export function layerLabel(layer: Layer): string {
  switch (layer.type) {
    case 'conv2d': {
      const parts = [`conv2d ${layer.filters}@${sizeText(layer.kernelSize)}`]
      if (sizePair(layer.stride).some((s) => s !== 1))
        parts.push(`stride ${sizeText(layer.stride)}`)
      if (layer.padding === 'same') parts.push('same')
      else if (layer.padding !== 'valid' && layer.padding > 0) parts.push(`pad ${layer.padding}`)
      if (layer.activation !== 'linear') parts.push(ACTIVATION_LABELS[layer.activation])
      if (!layer.useBias) parts.push('no bias')
      return parts.join(', ')
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const name = layer.type === 'maxPool2d' ? 'maxPool' : 'avgPool'
      const stride = layer.stride ?? layer.poolSize
      const same = sizeText(stride) === sizeText(layer.poolSize)
      return same
        ? `${name} ${sizeText(layer.poolSize)}`
        : `${name} ${sizeText(layer.poolSize)}, stride ${sizeText(stride)}`
    }
    case 'flatten':
      return 'flatten'
    case 'dense': {
      const parts = [`dense ${layer.units}`]
      if (layer.activation !== 'linear') parts.push(ACTIVATION_LABELS[layer.activation])
      if (!layer.useBias) parts.push('no bias')
      return parts.join(', ')
    }
    case 'dropout':
      return `dropout ${layer.rate}`
    case 'batchNorm':
      return 'batchNorm'
    case 'activation':
      return ACTIVATION_LABELS[layer.fn]
  }
}

/** Says where an image input came from, so a shape error reads as a story. */
function inputContext(previous: Layer | undefined): string {
  if (!previous) return 'the model input'
  switch (previous.type) {
    case 'maxPool2d':
    case 'avgPool2d':
      return 'the input left after pooling'
    case 'conv2d':
      return 'the input left after the previous convolution'
    default:
      return `the input left after ${previous.type}`
  }
}

function paddingAmount(padding: Padding): number {
  return padding === 'valid' ? 0 : padding === 'same' ? 0 : padding
}

function conv2d(
  layer: Extract<Layer, { type: 'conv2d' }>,
  input: Shape,
  previous: Layer | undefined
): LayerResult {
  if (!isImage(input)) {
    throw new LayerProblem(
      `conv2d needs a channels × height × width input but receives a flat vector of ${input[0]}: ` +
        'move convolution layers before flatten and dense'
    )
  }
  const [c, h, w] = input
  const [kh, kw] = sizePair(layer.kernelSize)
  const [sh, sw] = sizePair(layer.stride)
  let oh: number
  let ow: number
  if (layer.padding === 'same') {
    oh = Math.ceil(h / sh)
    ow = Math.ceil(w / sw)
  } else {
    const p = paddingAmount(layer.padding)
    oh = Math.floor((h + 2 * p - kh) / sh) + 1
    ow = Math.floor((w + 2 * p - kw) / sw) + 1
    const bad =
      oh < 1 ? { k: kh, n: h, s: sh, o: oh } : ow < 1 ? { k: kw, n: w, s: sw, o: ow } : null
    if (bad) {
      const where = `${h} × ${w} ${inputContext(previous).replace(/^the /, '')}`
      const padded = p > 0 ? ` (even with padding ${p})` : ''
      throw new LayerProblem(
        `kernel ${bad.k} is larger than the ${where}${padded}: ` +
          `floor((${bad.n} + 2·${p} − ${bad.k}) / ${bad.s}) + 1 = ${num(bad.o)}`,
        'kernelSize'
      )
    }
  }
  const perFilter = c * kh * kw
  const weights = layer.filters * perFilter
  const biases = layer.useBias ? layer.filters : 0
  const formula = layer.useBias
    ? `${layer.filters} × (${c} × ${kh} × ${kw}) + ${biases} = ${weights + biases}`
    : `${layer.filters} × (${c} × ${kh} × ${kw}) = ${weights}`
  return {
    outputShape: [layer.filters, oh, ow],
    params: weights + biases,
    nonTrainableParams: 0,
    paramsFormula: formula,
    macs: layer.filters * oh * ow * perFilter
  }
}

function pool2d(
  layer: Extract<Layer, { type: 'maxPool2d' | 'avgPool2d' }>,
  input: Shape,
  previous: Layer | undefined
): LayerResult {
  if (!isImage(input)) {
    throw new LayerProblem(
      `${layer.type} needs a channels × height × width input but receives a flat vector of ` +
        `${input[0]}: move pooling layers before flatten and dense`
    )
  }
  const [c, h, w] = input
  const [kh, kw] = sizePair(layer.poolSize)
  const [sh, sw] = sizePair(layer.stride ?? layer.poolSize)
  const oh = Math.floor((h - kh) / sh) + 1
  const ow = Math.floor((w - kw) / sw) + 1
  const bad = oh < 1 ? { k: kh, n: h, s: sh, o: oh } : ow < 1 ? { k: kw, n: w, s: sw, o: ow } : null
  if (bad) {
    const where = `${h} × ${w} ${inputContext(previous).replace(/^the /, '')}`
    throw new LayerProblem(
      `pool size ${bad.k} is larger than the ${where}: ` +
        `floor((${bad.n} − ${bad.k}) / ${bad.s}) + 1 = ${num(bad.o)}`,
      'poolSize'
    )
  }
  return {
    outputShape: [c, oh, ow],
    params: 0,
    nonTrainableParams: 0,
    paramsFormula: '0',
    macs: layer.type === 'avgPool2d' ? c * oh * ow * kh * kw : 0
  }
}

function dense(layer: Extract<Layer, { type: 'dense' }>, input: Shape): LayerResult {
  if (isImage(input)) {
    throw new LayerProblem(
      `dense needs a flat vector but receives ${formatShape(input)}: ` +
        'add a flatten layer before it'
    )
  }
  const n = input[0]
  const weights = layer.units * n
  const biases = layer.useBias ? layer.units : 0
  const formula = layer.useBias
    ? `${layer.units} × ${n} + ${biases} = ${weights + biases}`
    : `${layer.units} × ${n} = ${weights}`
  return {
    outputShape: [layer.units],
    params: weights + biases,
    nonTrainableParams: 0,
    paramsFormula: formula,
    macs: weights
  }
}

function batchNorm(input: Shape): LayerResult {
  const c = input[0]
  return {
    outputShape: [...input] as Shape,
    params: 2 * c,
    nonTrainableParams: 2 * c,
    paramsFormula: `2 × ${c} = ${2 * c} (+ ${2 * c} running mean and variance)`,
    macs: shapeSize(input)
  }
}

function passThrough(input: Shape): LayerResult {
  return {
    outputShape: [...input] as Shape,
    params: 0,
    nonTrainableParams: 0,
    paramsFormula: '0',
    macs: 0
  }
}

function inferLayer(layer: Layer, input: Shape, previous: Layer | undefined): LayerResult {
  switch (layer.type) {
    case 'conv2d':
      return conv2d(layer, input, previous)
    case 'maxPool2d':
    case 'avgPool2d':
      return pool2d(layer, input, previous)
    case 'dense':
      return dense(layer, input)
    case 'flatten':
      return { ...passThrough(input), outputShape: [shapeSize(input)] }
    case 'batchNorm':
      return batchNorm(input)
    case 'dropout':
    case 'activation':
      return passThrough(input)
  }
}

/**
 * Infers every layer's shapes and parameter counts as PyTorch would build the same network.
 * Inference stops at the first layer that cannot be built: `layers` then holds only the layers
 * before it, and `outputShape` is null. `outputShape` is also null when the last layer does not
 * give a flat vector of at least two class scores.
 */
export function summarizeModel(spec: ModelSpec): ModelSummary {
  const layers: LayerSummary[] = []
  const errors: ShapeError[] = []
  let shape: Shape = [spec.input.channels, spec.input.height, spec.input.width]
  for (const [index, layer] of spec.layers.entries()) {
    const previous = index > 0 ? spec.layers[index - 1] : undefined
    let result: LayerResult
    try {
      result = inferLayer(layer, shape, previous)
    } catch (err) {
      if (!(err instanceof LayerProblem)) throw err
      errors.push(
        err.field === undefined
          ? { index, message: err.message }
          : { index, field: err.field, message: err.message }
      )
      break
    }
    layers.push({
      index,
      type: layer.type,
      label: layerLabel(layer),
      inputShape: shape,
      outputShape: result.outputShape,
      params: result.params,
      nonTrainableParams: result.nonTrainableParams,
      paramsFormula: result.paramsFormula,
      macs: result.macs,
      activations: shapeSize(result.outputShape)
    })
    shape = result.outputShape
  }

  if (errors.length === 0) {
    const lastIndex = spec.layers.length - 1
    if (isImage(shape)) {
      errors.push({
        index: lastIndex,
        message:
          `the last layer must give one score per class, but it gives ${formatShape(shape)}: ` +
          'add flatten and dense'
      })
    } else if (shape[0] < 2) {
      errors.push({
        index: lastIndex,
        message:
          'the last layer gives a single score; a classifier needs one score per class, ' +
          'so give the last dense layer at least 2 units'
      })
    }
  }

  const trainableParams = layers.reduce((sum, l) => sum + l.params, 0)
  const nonTrainableParams = layers.reduce((sum, l) => sum + l.nonTrainableParams, 0)
  return {
    layers,
    errors,
    totalParams: trainableParams + nonTrainableParams,
    trainableParams,
    nonTrainableParams,
    totalMacs: layers.reduce((sum, l) => sum + l.macs, 0),
    outputShape: errors.length === 0 ? shape : null
  }
}

/** True when the summary has no errors and ends in one score per class. */
export function isTrainable(summary: ModelSummary): boolean {
  return summary.errors.length === 0 && summary.outputShape !== null
}

/** Number of classes the model scores, or null when the model is not trainable. */
export function numClassesOf(summary: ModelSummary): number | null {
  const shape = summary.outputShape
  return isTrainable(summary) && shape !== null && shape.length === 1 ? shape[0] : null
}

/**
 * Rough bytes needed to train one batch, assuming float32 everywhere and the Adam optimizer:
 * weights, their gradients and Adam's two moment buffers (4 × trainable params), running
 * statistics (non-trainable params), plus the input and every layer's activations kept twice
 * per sample (forward value and its gradient in the backward pass). Ignores backend workspace.
 */
export function estimateBatchMemory(summary: ModelSummary, batchSize: number): number {
  const paramFloats = 4 * summary.trainableParams + summary.nonTrainableParams
  const inputFloats = summary.layers.length > 0 ? shapeSize(summary.layers[0].inputShape) : 0
  const activationFloats = summary.layers.reduce((sum, l) => sum + l.activations, inputFloats)
  return BYTES_PER_FLOAT32 * (paramFloats + 2 * activationFloats * batchSize)
}
