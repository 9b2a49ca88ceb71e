// Entry of the engine's gradient worker threads (out/main/gradient-worker.js when bundled): each
// loads its own TensorFlow.js, builds a replica of the job's model and serves shard gradients.
import './tf'
import { serveGradientWorker } from './backends/parallel/serve-gradient-worker'
import { createReplica } from './gradient-model'

serveGradientWorker(createReplica)
