import type { Layer, LayerType, ModelSpec } from '../../../shared/model/spec'
import type { ModelSummary, Shape } from '../../../shared/model/summary-types'
import { sizePair } from '../../../shared/model/shape-inference'

/** Tallest front face: the largest height in the model gets this many pixels. */
export const MAX_FACE_PX = 110
const MIN_FACE_PX = 5
/** Depth (drawn receding up and to the right) of the widest image in the model. */
const MAX_DEPTH_PX = 34
const MIN_COLUMN_PX = 84
const COLUMN_PAD_PX = 14
const FLAT_WIDTH_PX = 9
const LABEL_SPACE_PX = 44

/** One tensor drawn as a box: height ∝ image height, depth ∝ width, width grows with channels. */
export interface DiagramBlock {
  key: string
  /** Layer index, or -1 for the input. */
  index: number
  type: LayerType | 'input'
  title: string
  shape: string
  state: 'ok' | 'error' | 'unknown'
  /** Left edge of the block's column. */
  x: number
  column: number
  width: number
  height: number
  depth: number
}

export interface DiagramLayout {
  blocks: DiagramBlock[]
  width: number
  height: number
  /** Vertical centre line of the front faces. */
  centerY: number
}

function shortTitle(layer: Layer): string {
  switch (layer.type) {
    case 'conv2d': {
      const [kh, kw] = sizePair(layer.kernelSize)
      return `conv ${kh}×${kw}`
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const [ph, pw] = sizePair(layer.poolSize)
      return `${layer.type === 'maxPool2d' ? 'max' : 'avg'} ${ph}×${pw}`
    }
    case 'dense':
      return 'dense'
    case 'dropout':
      return `dropout ${layer.rate}`
    case 'batchNorm':
      return 'batch norm'
    case 'activation':
      return layer.fn
    case 'flatten':
      return 'flatten'
  }
}

function channelWidth(channels: number): number {
  return Math.min(72, 4 + 7 * Math.log2(Math.max(1, channels)))
}

/** Lays out the model as a row of boxes whose sizes follow each layer's output shape. */
export function layoutDiagram(spec: ModelSpec, summary: ModelSummary): DiagramLayout {
  const input: Shape = [spec.input.channels, spec.input.height, spec.input.width]
  const shapes: Shape[] = [input, ...summary.layers.map((l) => l.outputShape)]
  const spatial = Math.max(
    1,
    ...shapes.flatMap((s) => (s.length === 3 ? [s[1], s[2]] : []))
  )

  const size = (s: Shape): Pick<DiagramBlock, 'width' | 'height' | 'depth'> => {
    if (s.length === 3) {
      return {
        width: channelWidth(s[0]),
        height: Math.max(MIN_FACE_PX, (MAX_FACE_PX * s[1]) / spatial),
        depth: Math.max(2, (MAX_DEPTH_PX * s[2]) / spatial)
      }
    }
    return {
      width: FLAT_WIDTH_PX,
      height: Math.min(MAX_FACE_PX, 12 + 14 * Math.log10(Math.max(1, s[0]))),
      depth: 0
    }
  }

  const blocks: DiagramBlock[] = []
  let x = 0
  const push = (b: Omit<DiagramBlock, 'x' | 'column'>): void => {
    const column = Math.max(MIN_COLUMN_PX, b.width + b.depth + COLUMN_PAD_PX)
    blocks.push({ ...b, x, column })
    x += column
  }
  push({
    key: 'input',
    index: -1,
    type: 'input',
    title: 'input',
    shape: input.join('×'),
    state: 'ok',
    ...size(input)
  })
  const errorAt = summary.errors.find((e) => e.index >= 0)?.index ?? -1
  spec.layers.forEach((layer, index) => {
    const row = summary.layers[index]
    const state = index === errorAt ? 'error' : row ? 'ok' : 'unknown'
    push({
      key: `layer-${index}`,
      index,
      type: layer.type,
      title: shortTitle(layer),
      shape: row ? row.outputShape.join('×') : '?',
      state,
      ...(row ? size(row.outputShape) : { width: 18, height: 28, depth: 0 })
    })
  })
  const top = MAX_DEPTH_PX + 6
  return {
    blocks,
    width: x,
    height: top + MAX_FACE_PX + LABEL_SPACE_PX,
    centerY: top + MAX_FACE_PX / 2
  }
}
