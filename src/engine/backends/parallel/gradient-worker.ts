// Default worker entry of the parallel trainer: builds the model from the module named in the
// init message. A bundled engine may instead ship its own entry calling serveGradientWorker.
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import { serveGradientWorker } from './serve-gradient-worker'

serveGradientWorker()
