import type { Layer } from '../../../../shared/model/spec'

const size = (s: number | [number, number]): string => (Array.isArray(s) ? `${s[0]}×${s[1]}` : `${s}×${s}`)

/** A layer in a few words, as the Inside view names it. */
export function describeLayer(layer: Layer | undefined): string {
  if (!layer) return ''
  switch (layer.type) {
    case 'conv2d':
      return `conv ${layer.filters} filters ${size(layer.kernelSize)}${layer.activation !== 'linear' ? `, ${layer.activation}` : ''}`
    case 'maxPool2d':
      return `max pool ${size(layer.poolSize)}`
    case 'avgPool2d':
      return `average pool ${size(layer.poolSize)}`
    case 'flatten':
      return 'flatten'
    case 'dense':
      return `dense ${layer.units}${layer.activation !== 'linear' ? `, ${layer.activation}` : ' (logits)'}`
    case 'dropout':
      return `dropout ${layer.rate}`
    case 'batchNorm':
      return 'batch norm'
    case 'activation':
      return layer.fn
  }
}
