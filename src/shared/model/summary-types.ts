import type { LayerType } from './spec'

/** Output shape as PyTorch prints it: [channels, height, width] for images, [n] after flatten/dense. */
export type Shape = [number, number, number] | [number]

/** One row of the layer table: one layer of the model file (a conv2d with its activation is one row). */
export interface LayerSummary {
  index: number
  type: LayerType
  /** Short human label, e.g. "conv2d 6@3×3, pad 1, ReLU". */
  label: string
  inputShape: Shape
  outputShape: Shape
  /** Trainable parameters (weights + biases; batch norm: gamma and beta). */
  params: number
  /** Non-trainable parameters (batch norm: running mean and variance). */
  nonTrainableParams: number
  /** How the parameter count is computed, e.g. "6 × (1 × 3 × 3) + 6 = 60". */
  paramsFormula: string
  /** Multiply-adds for one sample. */
  macs: number
  /** Output activation values for one sample. */
  activations: number
}

/** A problem pinned to the layer that causes it, with the arithmetic that failed. */
export interface ShapeError {
  /** Index into `layers`, or -1 for the input. */
  index: number
  field?: string
  message: string
}

export interface ModelSummary {
  /** Rows for the layers inferred before the first error; later layers have no known shape. */
  layers: LayerSummary[]
  errors: ShapeError[]
  totalParams: number
  trainableParams: number
  nonTrainableParams: number
  totalMacs: number
  /** Shape of the logits, or null when inference stopped at an error. */
  outputShape: Shape | null
}
