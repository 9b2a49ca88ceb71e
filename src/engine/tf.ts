// The engine's single door to TensorFlow.js. The union package registers every op's gradient
// (tfjs-core's CommonJS build registers none) and the cpu backend; the others are added at run
// time by backends/select.ts.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs'

export { tf }
