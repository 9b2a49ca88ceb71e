import type { ModelSpec } from './spec'
import { sizePair, summarizeModel } from './shape-inference'

/** One weight tensor a model needs, in the order the engine builds its variables. */
export interface WeightSlot {
  layer: number
  part: 'kernel' | 'bias' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance'
  /** NHWC layout as the engine stores it: conv kernels [kh, kw, cin, cout], dense [in, out]. */
  shape: number[]
}

/**
 * The weight shapes a model needs, in engine variable order, or null when its shapes cannot
 * be inferred. Pure: checks an imported weights manifest without building the model.
 */
export function expectedWeightShapes(spec: ModelSpec): WeightSlot[] | null {
  const summary = summarizeModel(spec)
  if (summary.errors.length > 0 || summary.layers.length !== spec.layers.length) return null
  const slots: WeightSlot[] = []
  spec.layers.forEach((layer, i) => {
    // Summary shapes are channels first ([c, h, w] or [n]): the first entry is the channel count.
    const inChannels = summary.layers[i].inputShape[0]
    switch (layer.type) {
      case 'conv2d': {
        const [kh, kw] = sizePair(layer.kernelSize)
        slots.push({ layer: i, part: 'kernel', shape: [kh, kw, inChannels, layer.filters] })
        if (layer.useBias) slots.push({ layer: i, part: 'bias', shape: [layer.filters] })
        break
      }
      case 'dense':
        slots.push({ layer: i, part: 'kernel', shape: [inChannels, layer.units] })
        if (layer.useBias) slots.push({ layer: i, part: 'bias', shape: [layer.units] })
        break
      case 'batchNorm':
        for (const part of ['gamma', 'beta', 'moving_mean', 'moving_variance'] as const) {
          slots.push({ layer: i, part, shape: [inChannels] })
        }
        break
      default:
        break
    }
  })
  return slots
}
