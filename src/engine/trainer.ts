import { tf } from './tf'
import { countHits, softmaxCrossEntropy } from './fused-loss'
import { buildModel, countParams, snapshotWeights, type BuiltModel } from './model'
import { seededRandom, shuffleInPlace, type SplitTensors, type TrainingData } from './data'
import { changesEveryBatch, learningRateAt, type Hyper } from '../shared/hyper'
import { setOptimizerLearningRate } from './backends/parallel/optimizer'
import { withLightSaves } from './backends/tape'
import type { ModelSpec } from '../shared/model/spec'
import type { EpochMetrics, ProgressEvent, TestMetrics } from '../shared/contract/types'
import type { WeightTensor } from '../shared/engine-protocol'
import { chooseThreads, startParallelTraining } from './parallel-training'
import type { ParallelTrainer } from './backends/parallel/parallel-trainer'
import { WorkbenchError } from '../shared/contract/errors'

/** An epoch's mean loss above this multiple of the first epoch's counts as exploded. */
export const LOSS_EXPLOSION_FACTOR = 10

/** The typed error that ends a run whose loss is not a number any more or has exploded. */
export function lossDiverged(what: string, learningRate: number): WorkbenchError {
  return new WorkbenchError(
    'LOSS_DIVERGED',
    `The training loss ${what}, so the run was stopped: the learning rate (${learningRate}) is ` +
      `probably too high. Lower it (try ${learningRate / 10}) and train again.`,
    { learningRate }
  )
}

/** Batch progress is sent at most this often, so the UI gets about ten updates a second. */
export const PROGRESS_INTERVAL_MS = 100
/** Validation checks per epoch (the last at the epoch's end), so curves move within long epochs. */
export const VAL_CHECKS_PER_EPOCH = 4
/** Epochs shorter than this get one check, at their end: short runs stay as fast as before. */
export const MIN_BATCHES_FOR_VAL_CHECKS = 200
/** Mid-epoch checks score this many validation images; the epoch's end scores all of them. */
export const VAL_CHECK_IMAGES = 1_000
/** Samples per forward pass when evaluating; bounded so memory stays flat on big splits. */
const EVAL_BATCH_SIZE = 1000

/** What a training loop reports; the engine server turns these into protocol messages. */
export interface TrainerSink {
  progress(e: Omit<ProgressEvent, 'runId'>): void
  /** After each epoch: its metrics, the model's weights and the optimizer's state (for resuming). */
  epoch(metrics: EpochMetrics, weights: WeightTensor[], optimizer: WeightTensor[]): void
}

/** How often a paused run looks whether it was resumed or stopped. */
export const PAUSE_POLL_MS = 50

/**
 * Cooperative cancellation: checked between batches, so stop finishes the current batch. While
 * `paused` is set the loop waits before the next batch; stop still ends it.
 */
export interface StopSignal {
  readonly stopped: boolean
  readonly paused?: boolean
}

/** Waits while the signal is paused; resolves to the milliseconds spent waiting. */
async function waitWhilePaused(signal: StopSignal): Promise<number> {
  if (!signal.paused || signal.stopped) return 0
  const from = performance.now()
  while (signal.paused && !signal.stopped) {
    await new Promise((resolve) => setTimeout(resolve, PAUSE_POLL_MS))
  }
  return performance.now() - from
}

export interface TrainResult {
  status: 'completed' | 'stopped'
  epochsDone: number
  /** Of the model as saved after epochsDone; null when it was stopped before any epoch was. */
  test: TestMetrics | null
  /** Why the run ended before its last epoch without being stopped (early stopping), in words. */
  note?: string
}

/** Builds the run's optimizer with its settings (PyTorch's defaults unless changed). */
export function makeOptimizer(hyper: Hyper): tf.Optimizer {
  const lr = hyper.learningRate
  const optimizer = ((): tf.Optimizer => {
    switch (hyper.optimizer) {
      case 'sgd':
        return tf.train.sgd(lr)
      case 'momentum':
        return tf.train.momentum(lr, hyper.momentum)
      case 'adam':
        return tf.train.adam(lr, hyper.beta1, hyper.beta2, 1e-8)
      case 'rmsprop':
        return tf.train.rmsprop(lr, hyper.rho, 0, 1e-8)
    }
  })()
  if (hyper.weightDecay > 0) addWeightDecay(optimizer, hyper.weightDecay)
  if (hyper.optimizer === 'momentum') {
    // tfjs's MomentumOptimizer.dispose() forgets the learning-rate scalar it inherits from SGD.
    const dispose = optimizer.dispose.bind(optimizer)
    optimizer.dispose = () => {
      dispose()
      ;(optimizer as unknown as { c?: tf.Tensor }).c?.dispose()
    }
  }
  return optimizer
}

/**
 * Adds `decay × weight` to every gradient before the optimizer uses it, as PyTorch's
 * `weight_decay` does; both minimize() and the threaded path go through applyGradients.
 */
function addWeightDecay(optimizer: tf.Optimizer, decay: number): void {
  const apply = optimizer.applyGradients.bind(optimizer)
  optimizer.applyGradients = (grads: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>) => {
    const named: tf.NamedTensorMap = Array.isArray(grads)
      ? Object.fromEntries(grads.map((g) => [g.name, g.tensor]))
      : grads
    const variables = tf.engine().registeredVariables
    const decayed = tf.tidy(() => {
      const out: tf.NamedTensorMap = {}
      for (const [name, g] of Object.entries(named)) {
        const v = variables[name]
        out[name] = v ? tf.add(g, tf.mul(v, decay)) : tf.clone(g)
      }
      return out
    })
    try {
      apply(decayed)
    } finally {
      tf.dispose(Object.values(decayed))
    }
  }
}

/** Sets an optimizer's learning rate for the next steps (SGD and momentum cache it as a tensor). */
export const setLearningRate = setOptimizerLearningRate

/**
 * Whether each thread can keep its own optimizer. Weight decay wraps the optimizer on the main
 * thread only; schedules travel with each step and the constants with the spec.
 */
function optimizerReplicable(hyper: Hyper): boolean {
  return hyper.weightDecay === 0
}

/** Mean loss and accuracy over a whole split, summed batch by batch (not averaged per batch). */
export async function evaluate(
  model: BuiltModel,
  split: SplitTensors,
  numClasses: number
): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0
  let correct = 0
  for (let start = 0; start < split.count; start += EVAL_BATCH_SIZE) {
    const size = Math.min(EVAL_BATCH_SIZE, split.count - start)
    const [l, c] = tf.tidy(() => {
      const x = tf.slice(split.images, [start, 0, 0, 0], [size, -1, -1, -1])
      const y = tf.slice(split.labels, [start], [size])
      const logits = model.forward(x, false)
      const loss = tf.sum(
        tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits, undefined, undefined, tf.Reduction.NONE)
      )
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'))
      return [loss, hits]
    })
    lossSum += (await l.data())[0]
    correct += (await c.data())[0]
    l.dispose()
    c.dispose()
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count }
}

/** The lowest validation loss so far and its epoch (counted from 1), or null without any. */
function earlyStoppingBest(losses: Array<number | null>): { epoch: number; loss: number } | null {
  let best: { epoch: number; loss: number } | null = null
  losses.forEach((loss, i) => {
    if (loss !== null && (best === null || loss < best.loss)) best = { epoch: i + 1, loss }
  })
  return best
}

/** Options of a training loop that are not hyperparameters. */
export interface TrainOptions {
  /** Threads to train on, main included; by default chosen by chooseThreads. */
  threads?: number
  /** Go on from a checkpoint: epochs already trained, their weights and the optimizer's state. */
  resume?: ResumePoint
}

/** Where a resumed run picks up. */
export interface ResumePoint {
  epochsDone: number
  weights: WeightTensor[]
  optimizer: WeightTensor[]
  /** Validation losses of the epochs done, for early stopping to go on counting. */
  valLosses?: Array<number | null>
}

/** The optimizer's state (step count, moments) as plain named arrays. */
async function snapshotOptimizer(optimizer: tf.Optimizer): Promise<WeightTensor[]> {
  const named = await optimizer.getWeights()
  try {
    return await Promise.all(
      named.map(async (w) => ({
        name: w.name,
        shape: w.tensor.shape.slice(),
        data: Float32Array.from((await w.tensor.data()) as ArrayLike<number>)
      }))
    )
  } finally {
    // The step count is a fresh scalar; the rest are the optimizer's own variables.
    tf.dispose(named.filter((w) => w.name === 'iter').map((w) => w.tensor))
  }
}

/** Puts saved weights back into the model's variables (same order, shapes checked by restore). */
function assignWeights(model: BuiltModel, weights: WeightTensor[]): void {
  model.variables.forEach((v, i) => {
    tf.tidy(() => v.assign(tf.tensor(weights[i].data, weights[i].shape, 'float32')))
  })
}

/** Puts a checkpoint's weights into the model (by position, checking shapes) and its state into the optimizer. */
async function restore(model: BuiltModel, optimizer: tf.Optimizer, point: ResumePoint): Promise<void> {
  if (point.weights.length !== model.variables.length) {
    throw new WorkbenchError(
      'INCOMPATIBLE',
      `The checkpoint has ${point.weights.length} weight tensors but the model needs ${model.variables.length}. Resume only with the run's own model.`
    )
  }
  model.variables.forEach((v, i) => {
    const w = point.weights[i]
    if (w.shape.join() !== v.shape.join()) {
      throw new WorkbenchError('INCOMPATIBLE', `Checkpoint weight ${w.name} has shape [${w.shape}] but the model needs [${v.shape}].`)
    }
    tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')))
  })
  if (point.optimizer.length > 0) {
    const tensors = point.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape, 'float32') }))
    try {
      await optimizer.setWeights(tensors)
    } finally {
      tf.dispose(tensors.map((t) => t.tensor))
    }
  }
}

/** One optimizer step on a batch: its mean loss and correctly classified samples. */
type BatchStep = (idx: Int32Array) => Promise<{ loss: number; hits: number }>

/** The single-thread step: gathers the batch on the backend and minimizes in place. */
function singleThreadStep(model: BuiltModel, optimizer: tf.Optimizer, data: TrainingData): BatchStep {
  return async (idx) => {
    const [loss, hits] = tf.tidy(() => {
      const ids = tf.tensor1d(idx, 'int32')
      const x = tf.gather(data.train.images, ids)
      const y = tf.gather(data.train.labels, ids)
      const onehot = tf.oneHot(y, data.numClasses)
      // The logits outlive the optimizer's own scope so the batch accuracy costs no second pass.
      const kept: tf.Tensor[] = []
      const l = withLightSaves(() =>
        optimizer.minimize(() => {
          const logits = tf.keep(model.forward(x, true))
          kept.push(logits)
          return softmaxCrossEntropy(onehot as tf.Tensor2D, logits as tf.Tensor2D)
        }, true)
      ) as tf.Scalar
      const h = countHits(onehot as tf.Tensor2D, kept[0] as tf.Tensor2D)
      kept.forEach((t) => t.dispose())
      return [l, h]
    })
    model.applyPendingStats()
    const [l] = await loss.data()
    const [h] = await hits.data()
    loss.dispose()
    hits.dispose()
    return { loss: l, hits: h }
  }
}

/** The batches (counted from 1) after which a mid-epoch validation check runs; none in short epochs. */
export function midEpochCheckBatches(batchesPerEpoch: number): Set<number> {
  const out = new Set<number>()
  if (batchesPerEpoch < MIN_BATCHES_FOR_VAL_CHECKS) return out
  for (let k = 1; k < VAL_CHECKS_PER_EPOCH; k++) {
    out.add(Math.round((k * batchesPerEpoch) / VAL_CHECKS_PER_EPOCH))
  }
  return out
}

/** Trains a model from its spec on prepared data, reporting through the sink. */
export async function train(
  spec: ModelSpec,
  hyper: Hyper,
  data: TrainingData,
  sink: TrainerSink,
  signal: StopSignal,
  runTag: string,
  options: TrainOptions = {}
): Promise<TrainResult & { params: number; threads: number }> {
  const model = buildModel(spec, hyper.seed, runTag)
  const optimizer = makeOptimizer(hyper)
  const random = seededRandom(hyper.seed)
  const resume = options.resume
  const firstEpoch = (resume?.epochsDone ?? 0) + 1
  const n = data.train.count
  const batchSize = Math.min(hyper.batchSize, n)
  const batchesPerEpoch = Math.ceil(n / batchSize)
  let parallel: ParallelTrainer | null = null
  try {
    let threads = chooseThreads(spec, { ...hyper, batchSize }, tf.getBackend(), options.threads)
    if (threads > 1) {
      try {
        parallel = await startParallelTraining(
          model,
          { spec, seed: hyper.seed, runTag },
          hyper,
          data,
          threads,
          optimizerReplicable(hyper) && !resume
        )
      } catch (error) {
        // Threads only speed training up; a worker that cannot start must not stop the run.
        if (process.env.CNN_WORKBENCH_DEBUG) console.error(error)
        threads = 1
      }
    }
    const trainer = parallel
    // Replicated: the trainer steps its own optimizer; otherwise every step goes through ours.
    const live = trainer?.optimizer ?? optimizer
    const step: BatchStep = trainer
      ? (idx) => (trainer.optimizer ? trainer.step(idx) : trainer.step(idx, optimizer))
      : singleThreadStep(model, optimizer, data)
    if (resume) {
      // Weights sent to threads at start are stale now; broadcast mode shares fresh ones each step.
      await restore(model, optimizer, resume)
      // The shuffles of the epochs done, so epoch N+1 sees the same order as in one long run.
      for (let e = 1; e < firstEpoch; e++) shuffleInPlace(new Int32Array(n), random)
    }
    const valLosses: Array<number | null> = [...(resume?.valLosses ?? [])]
    const midEpochChecks = midEpochCheckBatches(batchesPerEpoch)
    let note: string | undefined
    // Moved forward by the time spent paused, so elapsed time and speed count training only.
    let started = performance.now()
    let epochsDone = firstEpoch - 1
    let stopped = false
    let firstEpochLoss: number | undefined
    /** The weights as last handed to the sink (saved): a stop mid-epoch goes back to them. */
    let lastSaved: WeightTensor[] | null = resume?.weights ?? null
    /** Set when a stop cut an epoch short: its batches are thrown away, never counted whole. */
    let partial: { epoch: number; batches: number } | null = null
    for (let epoch = firstEpoch; epoch <= hyper.epochs && !stopped; epoch++) {
      const learningRate = learningRateAt(hyper, epoch)
      if (trainer?.optimizer) trainer.setLearningRate(learningRate)
      else setLearningRate(optimizer, learningRate)
      const order = new Int32Array(n)
      for (let i = 0; i < n; i++) order[i] = i
      shuffleInPlace(order, random)
      let epochStart = performance.now()
      let lastReport = 0
      let lossSum = 0
      let correct = 0
      let seen = 0
      for (let b = 0; b < batchesPerEpoch; b++) {
        const pausedMs = await waitWhilePaused(signal)
        started += pausedMs
        epochStart += pausedMs
        if (signal.stopped) {
          stopped = true
          break
        }
        const idx = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize))
        if (b > 0 && changesEveryBatch(hyper.schedule)) {
          const rate = learningRateAt(hyper, epoch, b / batchesPerEpoch)
          if (trainer?.optimizer) trainer.setLearningRate(rate)
          else setLearningRate(optimizer, rate)
        }
        const { loss: batchLoss, hits: batchHits } = await step(idx)
        if (!Number.isFinite(batchLoss)) {
          throw lossDiverged(`became ${batchLoss} in epoch ${epoch}, batch ${b + 1}`, hyper.learningRate)
        }
        lossSum += batchLoss * idx.length
        correct += batchHits
        seen += idx.length
        const check = data.validation && midEpochChecks.has(b + 1)
          ? await evaluate(model, { ...data.validation, count: Math.min(VAL_CHECK_IMAGES, data.validation.count) }, data.numClasses)
          : null
        const now = performance.now()
        if (check || now - lastReport >= PROGRESS_INTERVAL_MS || b === batchesPerEpoch - 1) {
          lastReport = now
          const elapsedMs = now - started
          const doneSamples = (epoch - firstEpoch) * n + seen
          const samplesPerSecond = seen / ((now - epochStart) / 1000)
          const remaining = (hyper.epochs - firstEpoch + 1) * n - doneSamples
          sink.progress({
            epoch,
            epochs: hyper.epochs,
            batch: b + 1,
            batchesPerEpoch,
            loss: batchLoss,
            accuracy: batchHits / idx.length,
            samplesPerSecond,
            elapsedMs,
            etaMs: samplesPerSecond > 0 ? (remaining / samplesPerSecond) * 1000 : 0,
            ...(check && data.validation
              ? {
                  valLoss: check.loss,
                  valAccuracy: check.accuracy,
                  valCount: Math.min(VAL_CHECK_IMAGES, data.validation.count)
                }
              : {})
          })
          // Let stop messages in between batches.
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      if (seen === 0) break
      if (stopped) {
        partial = { epoch, batches: Math.ceil(seen / batchSize) }
        break
      }
      const seconds = (performance.now() - epochStart) / 1000
      const epochLoss = lossSum / seen
      firstEpochLoss ??= epochLoss
      if (epochLoss > LOSS_EXPLOSION_FACTOR * firstEpochLoss) {
        throw lossDiverged(
          `exploded from ${firstEpochLoss.toFixed(3)} in the first epoch to ${epochLoss.toFixed(3)} in epoch ${epoch}`,
          hyper.learningRate
        )
      }
      const val = data.validation ? await evaluate(model, data.validation, data.numClasses) : null
      epochsDone = epoch
      const weights = await snapshotWeights(model)
      lastSaved = weights
      sink.epoch(
        {
          epoch,
          loss: epochLoss,
          accuracy: correct / seen,
          valLoss: val ? val.loss : null,
          valAccuracy: val ? val.accuracy : null,
          seconds,
          samplesPerSecond: seen / seconds,
          learningRate
        },
        weights,
        await snapshotOptimizer(live)
      )
      valLosses.push(val ? val.loss : null)
      if (hyper.earlyStopping > 0 && val && !stopped) {
        const best = earlyStoppingBest(valLosses)
        if (epoch < hyper.epochs && best !== null && epoch - best.epoch >= hyper.earlyStopping) {
          note =
            `Early stopping: validation loss has not improved for ${hyper.earlyStopping} ` +
            `epoch${hyper.earlyStopping === 1 ? '' : 's'} (best ${best.loss.toFixed(4)} after epoch ${best.epoch}), ` +
            `so training ended after epoch ${epoch}. The saved model is the one from epoch ${epoch}.`
          break
        }
      }
    }
    if (partial) {
      // The saved model is the one after epochsDone; the test score must be of that model.
      if (lastSaved) assignWeights(model, lastSaved)
      const kept = epochsDone > 0 ? `the saved model is the one after epoch ${epochsDone}` : 'no epoch was saved'
      note =
        `Stopped in epoch ${partial.epoch} after ${partial.batches} of ${batchesPerEpoch} batches. ` +
        `A partial epoch is not kept: ${kept}, and resuming trains epoch ${partial.epoch} again from its start.`
    }
    const test = lastSaved ? await evaluate(model, data.test, data.numClasses) : null
    return {
      status: stopped ? 'stopped' : 'completed',
      epochsDone,
      ...(note ? { note } : {}),
      params: countParams(model).trainable,
      threads,
      test: test ? { testAccuracy: test.accuracy, testLoss: test.loss, testCount: data.test.count } : null
    }
  } finally {
    await parallel?.close()
    optimizer.dispose()
    model.dispose()
  }
}
