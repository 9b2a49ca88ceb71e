import { WorkbenchError } from '../contract/errors'
import type { ModelSpec } from './spec'

/** What a compatibility check needs to know of a dataset. */
export interface DatasetShape {
  name: string
  /** [channels, height, width]. */
  shape: readonly [number, number, number]
  classes: readonly string[]
}

/**
 * Why a model cannot train on a dataset (its input shape or its class count), or null when it
 * can. The main process checks before it creates a run folder; the engine checks again.
 */
export function incompatibility(
  spec: ModelSpec,
  outputShape: readonly number[] | null,
  ds: DatasetShape
): WorkbenchError | null {
  const [c, h, w] = ds.shape
  const inp = spec.input
  if (inp.channels !== c || inp.height !== h || inp.width !== w) {
    return new WorkbenchError(
      'INCOMPATIBLE',
      `The model expects ${inp.channels} × ${inp.height} × ${inp.width} input but ${ds.name} has ${c} × ${h} × ${w} images. Change the model's input or pick another dataset.`
    )
  }
  if (!outputShape || outputShape.length !== 1 || outputShape[0] !== ds.classes.length) {
    return new WorkbenchError(
      'INCOMPATIBLE',
      `The last layer gives ${outputShape ? outputShape.join(' × ') : 'no'} outputs but ${ds.name} has ${ds.classes.length} classes. Set the last dense layer to ${ds.classes.length} units.`
    )
  }
  return null
}
