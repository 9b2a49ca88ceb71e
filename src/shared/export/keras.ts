import { formatShape } from '../model/shape-inference'
import type { Activation, Layer, ModelSpec } from '../model/spec'
import { commentText, pySize, summaryForExport } from './python-text'

/** Keras activation names; leakyRelu becomes a separate layer (Keras' default slope is 0.3). */
const KERAS_ACTIVATIONS: Record<Activation, string> = {
  relu: 'relu',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  leakyRelu: 'linear',
  elu: 'elu',
  linear: 'linear'
}

function activationArg(fn: Activation): string {
  const name = KERAS_ACTIVATIONS[fn]
  return name === 'linear' ? '' : `, activation="${name}"`
}

function activationLayer(fn: Activation): string[] {
  if (fn === 'leakyRelu') return ['layers.LeakyReLU(0.01)']
  if (fn === 'linear') return []
  return [`layers.Activation("${KERAS_ACTIVATIONS[fn]}")`]
}

function kerasLayers(layer: Layer): string[] {
  switch (layer.type) {
    case 'conv2d': {
      const out: string[] = []
      let padding = layer.padding === 'same' ? 'same' : 'valid'
      if (typeof layer.padding === 'number' && layer.padding > 0) {
        out.push(`layers.ZeroPadding2D(${layer.padding})`)
        padding = 'valid'
      }
      const bias = layer.useBias ? '' : ', use_bias=False'
      out.push(
        `layers.Conv2D(${layer.filters}, ${pySize(layer.kernelSize)}, strides=${pySize(layer.stride)}, ` +
          `padding="${padding}"${activationArg(layer.activation)}${bias})`
      )
      if (layer.activation === 'leakyRelu') out.push(...activationLayer('leakyRelu'))
      return out
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const cls = layer.type === 'maxPool2d' ? 'MaxPooling2D' : 'AveragePooling2D'
      return [
        `layers.${cls}(${pySize(layer.poolSize)}, strides=${pySize(layer.stride ?? layer.poolSize)})`
      ]
    }
    case 'flatten':
      return ['layers.Flatten()']
    case 'dense': {
      const bias = layer.useBias ? '' : ', use_bias=False'
      const out = [`layers.Dense(${layer.units}${activationArg(layer.activation)}${bias})`]
      if (layer.activation === 'leakyRelu') out.push(...activationLayer('leakyRelu'))
      return out
    }
    case 'dropout':
      return [`layers.Dropout(${layer.rate})`]
    case 'batchNorm':
      return ['layers.BatchNormalization()']
    case 'activation':
      return activationLayer(layer.fn)
  }
}

/**
 * A Python file building the spec as a Keras Sequential model (channels last, as Keras expects)
 * and printing its summary. Parameter counts match; flattened feature order differs from PyTorch.
 */
export function exportKeras(spec: ModelSpec): string {
  const summary = summaryForExport(spec)
  const { channels, height, width } = spec.input
  const lines: string[] = []
  summary.layers.forEach((row, i) => {
    lines.push(`        # ${i + 1}: ${commentText(row.label)} -> ${formatShape(row.outputShape)}`)
    for (const l of kerasLayers(spec.layers[i])) lines.push(`        ${l},`)
  })
  return `#!/usr/bin/env python3
# ${commentText(spec.name)}: exported from CNN Workbench for Keras.
# Input ${height}×${width}×${channels} (channels last), ${summary.trainableParams} trainable parameters.
# Shapes in the comments are PyTorch's [channels, height, width].
from tensorflow import keras
from tensorflow.keras import layers


def build_model():
    return keras.Sequential([
        keras.Input(shape=(${height}, ${width}, ${channels})),
${lines.join('\n')}
    ])


if __name__ == "__main__":
    model = build_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.summary()
`
}
