import * as tf from '@tensorflow/tfjs-core'
import type { OptimizerName } from '../../../shared/hyper'
import { FlatOptimizer } from './flat-optimizer'

/** An optimizer every thread can rebuild identically. */
export interface OptimizerSpec {
  name: OptimizerName
  learningRate: number
  /** Constants; PyTorch's defaults (0.9, 0.9, 0.999, 0.99) when left out. */
  momentum?: number
  beta1?: number
  beta2?: number
  rho?: number
}

/**
 * Builds the optimizer with the engine trainer's (PyTorch's) constants. SGD and Adam are the
 * fused FlatOptimizer (one loop over all parameters), the others tfjs's own.
 */
export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const lr = spec.learningRate
  switch (spec.name) {
    case 'sgd':
      return new FlatOptimizer('sgd', lr)
    case 'momentum': {
      const optimizer = tf.train.momentum(lr, spec.momentum ?? 0.9)
      // tfjs's MomentumOptimizer.dispose() forgets the learning-rate scalar it inherits from SGD.
      const dispose = optimizer.dispose.bind(optimizer)
      optimizer.dispose = () => {
        dispose()
        ;(optimizer as unknown as { c?: tf.Tensor }).c?.dispose()
      }
      return optimizer
    }
    case 'adam':
      return new FlatOptimizer('adam', lr, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, 1e-8)
    case 'rmsprop':
      return tf.train.rmsprop(lr, spec.rho ?? 0.99, 0, 1e-8)
  }
}

/** Sets an optimizer's learning rate for the next steps (SGD and momentum cache it as a tensor). */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void }
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr)
  else o.learningRate = lr
}
