import * as tf from '@tensorflow/tfjs-core'
import type { OptimizerName } from '../../../shared/hyper'

/** An optimizer every thread can rebuild identically. */
export interface OptimizerSpec {
  name: OptimizerName
  learningRate: number
}

/** Builds the optimizer with the engine trainer's (PyTorch's) constants. */
export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const lr = spec.learningRate
  switch (spec.name) {
    case 'sgd':
      return tf.train.sgd(lr)
    case 'momentum':
      return tf.train.momentum(lr, 0.9)
    case 'adam':
      return tf.train.adam(lr, 0.9, 0.999, 1e-8)
    case 'rmsprop':
      return tf.train.rmsprop(lr, 0.99, 0, 1e-8)
  }
}
