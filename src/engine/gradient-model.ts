import { tf } from './tf'
import { buildModel, type BuiltModel } from './model'
import { countHits, softmaxCrossEntropy } from './fused-loss'
import type { GradientModel } from './backends/parallel/protocol'
import type { ModelSpec } from '../shared/model/spec'

/** What a gradient worker needs to build the same network as the engine's main thread. */
export interface ReplicaInit {
  spec: ModelSpec
  seed: number
  runTag: string
}

/** The engine's model as the parallel trainer sees it: trainable variables, loss and hits. */
export function asGradientModel(model: BuiltModel): GradientModel {
  const lossAndHits = (x: tf.Tensor4D, oneHot: tf.Tensor2D): { loss: tf.Scalar; hits: tf.Scalar } => {
    const logits = model.forward(x, true)
    const loss = softmaxCrossEntropy(oneHot, logits as tf.Tensor2D)
    const hits = countHits(oneHot, logits as tf.Tensor2D)
    return { loss, hits }
  }
  return {
    variables: model.trainable,
    loss: (x, oneHot) => lossAndHits(x, oneHot).loss,
    lossAndHits,
    dispose: () => model.dispose()
  }
}

/** Builds a worker's replica; its weights are then overwritten with the main thread's. */
export function createReplica(init: unknown): GradientModel {
  const { spec, seed, runTag } = init as ReplicaInit
  return asGradientModel(buildModel(spec, seed, runTag))
}
