// The training loss and the batch's hit count as one kernel each on the wasm backend. tfjs's
// losses.softmaxCrossEntropy runs about 15 kernels forward and 15 backward, and counting hits
// (argMax twice, Equal, Cast, Sum) 5 more: on a [64, 10] batch each costs its launch and a
// tensor, not arithmetic, about a third of all kernels of a LeNet-5 step. Other backends keep
// tfjs's ops; both give the same numbers (fused-loss.test.ts).
import { tf } from './tf'
import { COUNT_HITS, SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from './backends/wasm-kernels/loss-kernels'

/** Whether the fused loss kernels run on the current backend. */
export function fusedLossAvailable(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(SOFTMAX_CROSS_ENTROPY, 'wasm') !== undefined
}

/** Labels as float32 (tf.oneHot gives int32), as tfjs's loss casts them. */
function asFloat(labels: tf.Tensor2D): tf.Tensor2D {
  return labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32')
}

/** Mean softmax cross-entropy of logits [n, classes] against labels of the same shape. */
export function softmaxCrossEntropy(labels: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
  if (!fusedLossAvailable()) return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
  return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits, labels: asFloat(labels) }, {}) as tf.Scalar
}

/** How many rows of logits have their largest value where the one-hot labels have theirs. */
export function countHits(labels: tf.Tensor2D, logits: tf.Tensor2D): tf.Scalar {
  if (!fusedLossAvailable()) return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(labels, 1)), 'float32'))
  return tf.engine().runKernel(COUNT_HITS, { logits, labels: asFloat(labels) }, {}) as tf.Scalar
}

tf.registerGradient({
  kernelName: SOFTMAX_CROSS_ENTROPY,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy, saved) => {
    const [logits, labels] = saved as [tf.Tensor2D, tf.Tensor2D]
    return {
      logits: () => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { dy: dy as tf.Tensor, logits, labels }, {}) as tf.Tensor,
      // Labels are data, not weights; their gradient is here for completeness (tfjs's op has one).
      labels: () => tf.mul(dy as tf.Scalar, tf.div(tf.neg(tf.logSoftmax(logits)), logits.shape[0]))
    }
  }
})
