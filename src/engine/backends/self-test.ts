import * as tf from '@tensorflow/tfjs-core'

/** Largest error a backend may make on the self-test and still be used. */
const SELF_TEST_TOLERANCE = 1e-3

// A 3x3 image convolved with a 2x2 filter (valid, stride 1), loss = sum of the output.
// Expected values worked out by hand: y = [37, 47, 67, 77]; dL/dw sums each 2x2 window's
// inputs; dL/dx counts the filter taps covering each pixel.
const X = [1, 2, 3, 4, 5, 6, 7, 8, 9]
const W = [1, 2, 3, 4]
const EXPECTED_Y = [37, 47, 67, 77]
const EXPECTED_DW = [12, 16, 24, 28]
const EXPECTED_DX = [1, 3, 2, 4, 10, 6, 3, 7, 4]

/**
 * Runs a small convolution and its gradients on the active backend and compares them with
 * known numbers. Returns null when they agree, else a sentence saying what went wrong.
 */
export async function runBackendSelfTest(): Promise<string | null> {
  try {
    const x = tf.tensor4d(X, [1, 3, 3, 1])
    const w = tf.tensor4d(W, [2, 2, 1, 1])
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
      tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'))
    const y = tf.conv2d(x, w, 1, 'valid')
    const [dx, dw] = tf.grads(f)([x, w])
    const checks: Array<[string, tf.Tensor, number[]]> = [
      ['convolution', y, EXPECTED_Y],
      ['filter gradient', dw!, EXPECTED_DW],
      ['input gradient', dx!, EXPECTED_DX]
    ]
    let problem: string | null = null
    for (const [what, tensor, expected] of checks) {
      const got = await tensor.data()
      const worst = expected.reduce((m, e, i) => Math.max(m, Math.abs((got[i] ?? NaN) - e)), 0)
      if (!(worst <= SELF_TEST_TOLERANCE) && problem === null) {
        problem = `its ${what} was off by ${worst} on a 3x3 test image`
      }
    }
    tf.dispose([x, w, y, dx!, dw!])
    return problem
  } catch (error) {
    return `its self-test threw: ${error instanceof Error ? error.message : String(error)}`
  }
}
