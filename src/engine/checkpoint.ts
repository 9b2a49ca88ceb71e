import { tf } from './tf'
import { buildModel, type BuiltModel } from './model'
import { WorkbenchError } from '../shared/contract/errors'
import type { Checkpoint } from '../data/runs/run-folder'

/** Numbers the models built from checkpoints: variable names must be unique in the engine. */
let modelsBuilt = 0

/**
 * Builds the network of a checkpoint and assigns its weights by position, checking each shape:
 * names carry the run id of training, so they do not match a freshly built model's.
 */
export function modelFromCheckpoint(ckpt: Checkpoint, seed = 0): BuiltModel {
  const model = buildModel(ckpt.spec, seed, `checkpoint${modelsBuilt++}`)
  try {
    if (model.variables.length !== ckpt.weights.length) {
      throw new WorkbenchError(
        'INCOMPATIBLE',
        `The checkpoint has ${ckpt.weights.length} weight tensors but its model needs ${model.variables.length}.`
      )
    }
    model.variables.forEach((v, i) => {
      const w = ckpt.weights[i]
      if (w.shape.length !== v.shape.length || w.shape.some((d, k) => d !== v.shape[k])) {
        throw new WorkbenchError(
          'INCOMPATIBLE',
          `Weight ${i + 1} (${w.name}) has shape [${w.shape.join(', ')}] but the model needs [${v.shape.join(', ')}].`
        )
      }
      tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')))
    })
  } catch (err) {
    model.dispose()
    throw err
  }
  return model
}
