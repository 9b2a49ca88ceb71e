import type { BackendName, OptimizerName } from '../hyper'
import type { ModelSummary } from './summary-types'
import { estimateBatchMemory } from './shape-inference'

const BYTES_PER_FLOAT32 = 4
const MIB = 1024 * 1024

/**
 * The wasm backend's heap: wasm32 addresses 4 GiB, and tfjs-backend-wasm's Emscripten build caps
 * growth at 4 GiB − 64 KiB (its getHeapMax()). Everything the engine keeps on that backend
 * (dataset tensors, weights, gradients, optimizer state, activations) lives inside it.
 */
export const WASM_HEAP_MAX_BYTES = 4_294_901_760

/**
 * Node reads and writes at most 2 GiB − 1 in one file call (fs.readFile's kIoMaxLength), so a
 * checkpoint's weights.bin or optimizer.bin larger than that could be saved but never resumed.
 */
export const CHECKPOINT_FILE_MAX_BYTES = 2 ** 31 - 1

/** Adam keeps two moments per weight, so optimizer.bin holds up to twice the weights. */
const OPTIMIZER_FLOATS_PER_PARAM = 2

/**
 * Parameter-sized tensors a tfjs optimizer allocates in one update, counted in tfjs-core's
 * applyGradients: they live until its tidy() ends, for all weights at once. Adam: 3 for the
 * first moment, 4 for the second, 2 bias corrections, 5 for the new value; SGD: the scaled
 * gradient and the new value.
 */
export const STEP_TEMPORARIES_PER_PARAM: Record<OptimizerName, number> = {
  sgd: 2,
  momentum: 5,
  rmsprop: 10,
  adam: 14
}

/** Bytes one update step allocates on top of estimateBatchMemory's steady state. */
export function stepTemporaryBytes(summary: ModelSummary, optimizer: OptimizerName): number {
  return STEP_TEMPORARIES_PER_PARAM[optimizer] * summary.trainableParams * BYTES_PER_FLOAT32
}

/** Bytes one training run needs on its backend for this model, batch size and optimizer. */
export function trainingMemoryBytes(
  summary: ModelSummary,
  batchSize: number,
  optimizer: OptimizerName = 'adam'
): number {
  return estimateBatchMemory(summary, batchSize) + stepTemporaryBytes(summary, optimizer)
}

/** The memory a backend can give a run: wasm's fixed heap; elsewhere the machine's free memory. */
export function backendMemoryLimit(backend: BackendName, freeSystemBytes: number): number {
  return backend === 'wasm' ? WASM_HEAP_MAX_BYTES : freeSystemBytes
}

/** Megabytes or gigabytes, for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MIB) return `${(bytes / 1024 / MIB).toFixed(2)} GB`
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MB`
}

/** What checkMemoryBudget found: fits, or why not in words that give the figure and the limit. */
export type MemoryVerdict =
  | { ok: true; neededBytes: number; availableBytes: number }
  | { ok: false; neededBytes: number; availableBytes: number; message: string }

/**
 * Checks a model before anything is allocated: its checkpoint files must be readable again,
 * and one training step (batchSize samples; 1 when inspecting) must fit what the backend has
 * left (`limitBytes` minus `usedBytes` already taken, such as the dataset's tensors).
 */
export function checkMemoryBudget(
  summary: ModelSummary,
  opts: {
    batchSize: number
    backend: BackendName
    limitBytes: number
    usedBytes?: number
    /** Inspecting runs no optimizer step: leave it out. */
    optimizer?: OptimizerName
  }
): MemoryVerdict {
  const params = summary.trainableParams + summary.nonTrainableParams
  const weightsFile = params * BYTES_PER_FLOAT32
  const optimizerFile = OPTIMIZER_FLOATS_PER_PARAM * summary.trainableParams * BYTES_PER_FLOAT32
  const biggestFile = Math.max(weightsFile, optimizerFile)
  const neededBytes = opts.optimizer
    ? trainingMemoryBytes(summary, opts.batchSize, opts.optimizer)
    : estimateBatchMemory(summary, opts.batchSize)
  const availableBytes = Math.max(0, opts.limitBytes - (opts.usedBytes ?? 0))
  const count = params.toLocaleString('en-US')
  if (biggestFile > CHECKPOINT_FILE_MAX_BYTES) {
    return {
      ok: false,
      neededBytes,
      availableBytes,
      message:
        `The model has ${count} parameters: its checkpoint would need a ${formatBytes(biggestFile)} ` +
        `file, more than the ${formatBytes(CHECKPOINT_FILE_MAX_BYTES)} a file can be read back in. ` +
        'Use fewer or smaller layers (a dense layer after a large feature map is the usual cause).'
    }
  }
  if (neededBytes > availableBytes) {
    const used = opts.usedBytes ? ` (${formatBytes(opts.usedBytes)} of it already in use)` : ''
    const where =
      opts.backend === 'wasm'
        ? `the wasm backend's ${formatBytes(opts.limitBytes)} heap${used}`
        : `the ${formatBytes(opts.limitBytes)} of memory free for the ${opts.backend} backend${used}`
    return {
      ok: false,
      neededBytes,
      availableBytes,
      message:
        `The model (${count} parameters) needs about ${formatBytes(neededBytes)} to ` +
        `${opts.optimizer ? `train a batch of ${opts.batchSize}` : 'run'}, but only ${formatBytes(availableBytes)} is left of ${where}. ` +
        'Use a smaller batch or fewer and smaller layers.'
    }
  }
  return { ok: true, neededBytes, availableBytes }
}
