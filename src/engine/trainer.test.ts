import { beforeAll, describe, expect, it, vi } from 'vitest'
import { tf } from './tf'
import { selectBackend } from './backends/select'
import { planSplit, prepareData } from './data'
import { makeOptimizer, PROGRESS_INTERVAL_MS, train, type TrainerSink } from './trainer'
import { getPreset } from '../shared/model/presets'
import { modelSpecSchema } from '../shared/model/spec'
import { hyperSchema, learningRateAt, type HyperInput } from '../shared/hyper'
import type { LoadedDataset } from '../data/datasets/types'
import type { EpochMetrics } from '../shared/contract/types'
import type { WeightTensor } from '../shared/engine-protocol'

const TRAIN_COUNT = 256
const TEST_COUNT = 64
const PIXELS = 28 * 28

/** Random digits-shaped data: enough to run the real loop, not to learn anything. */
function syntheticMnist(): LoadedDataset {
  const split = (count: number, salt: number) => ({
    images: Uint8Array.from({ length: count * PIXELS }, (_, i) => (i * 2654435761 + salt) % 251),
    labels: Uint8Array.from({ length: count }, (_, i) => (i * 7 + salt) % 10),
    count
  })
  return {
    name: 'synthetic',
    shape: [1, 28, 28],
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    train: split(TRAIN_COUNT, 1),
    test: split(TEST_COUNT, 2)
  }
}

interface Observed {
  tensorsAfterEpoch: number[]
  metrics: EpochMetrics[]
  tensorsAfterRun: number
  tensorsBefore: number
  threads: number
}

async function run(hyper: HyperInput, threads?: number, spec = getPreset('lenet').spec): Promise<Observed> {
  const h = hyperSchema.parse({ epochs: 5, validationSplit: 0.25, ...hyper })
  const ds = syntheticMnist()
  const data = prepareData(ds, planSplit(ds.train.count, h.validationSplit, h.seed), (threads ?? 1) > 1)
  const tensorsBefore = tf.memory().numTensors
  const tensorsAfterEpoch: number[] = []
  const metrics: EpochMetrics[] = []
  const sink: TrainerSink = {
    progress: () => {},
    epoch: (m) => {
      metrics.push(m)
      tensorsAfterEpoch.push(tf.memory().numTensors)
    }
  }
  const result = await train(spec, h, data, sink, { stopped: false }, 't', { threads })
  const tensorsAfterRun = tf.memory().numTensors
  data.dispose()
  return { tensorsAfterEpoch, metrics, tensorsAfterRun, tensorsBefore, threads: result.threads }
}

describe('train', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
  })

  it.each([
    ['one thread, batch 16', { batchSize: 16 }, 1],
    ['two threads, batch 64', { batchSize: 64, optimizer: 'sgd', learningRate: 0.1 }, 2]
  ] as const)('holds the same number of tensors after epoch 1 and epoch 5 (%s)', async (_, hyper, threads) => {
    const seen = await run(hyper, threads)
    expect(seen.threads).toBe(threads)
    expect(seen.tensorsAfterEpoch).toHaveLength(5)
    expect(seen.tensorsAfterEpoch[4]).toBe(seen.tensorsAfterEpoch[0])
    // Model, optimizer state and every batch's tensors are released when the run ends.
    expect(seen.tensorsAfterRun).toBe(seen.tensorsBefore)
    expect(seen.metrics.every((m) => Number.isFinite(m.loss) && m.valAccuracy !== null)).toBe(true)
  })

  it('repeats a run exactly for the same seed, threaded or not', async () => {
    for (const [hyper, threads] of [
      [{ batchSize: 16, epochs: 2 }, 1],
      [{ batchSize: 64, epochs: 2 }, 2]
    ] as const) {
      const a = await run(hyper, threads)
      const b = await run(hyper, threads)
      expect(b.metrics.map((m) => m.loss)).toEqual(a.metrics.map((m) => m.loss))
      expect(b.metrics.map((m) => m.valAccuracy)).toEqual(a.metrics.map((m) => m.valAccuracy))
    }
  })

  it('trains a model with dropout on two threads, each drawing its own masks', async () => {
    const lenet = getPreset('lenet').spec
    const spec = { ...lenet, layers: [...lenet.layers.slice(0, -1), { type: 'dropout' as const, rate: 0.5 }, lenet.layers.at(-1)!] }
    const seen = await run({ batchSize: 64, epochs: 2 }, 2, spec)
    expect(seen.threads).toBe(2)
    expect(seen.metrics.every((m) => Number.isFinite(m.loss))).toBe(true)
    expect(seen.tensorsAfterRun).toBe(seen.tensorsBefore)
  })

  it('gives the same epoch accuracy on two threads as on one (same samples counted)', async () => {
    const hyper = { batchSize: 64, epochs: 1, optimizer: 'sgd', learningRate: 0.01 } as const
    const one = await run(hyper, 1)
    const two = await run(hyper, 2)
    expect(two.metrics[0].loss).toBeCloseTo(one.metrics[0].loss, 2)
    expect(two.metrics[0].accuracy).toBeCloseTo(one.metrics[0].accuracy, 1)
  })
})

describe('train: pause', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
  })

  const prepared = (hyper: HyperInput) => {
    const h = hyperSchema.parse({ epochs: 1, validationSplit: 0, batchSize: 16, ...hyper })
    const ds = syntheticMnist()
    return { h, data: prepareData(ds, planSplit(ds.train.count, h.validationSplit, h.seed), false) }
  }

  it('holds between batches while paused and leaves the pause out of elapsed time', async () => {
    const { h, data } = prepared({ epochs: 2 })
    // The trainer's clock is faked (performance.now only; real timers keep its pause polling
    // going) so the pause has an exact length: a wall-clock comparison would flake under load.
    // The clock moves only here: by BATCH_MS when the trainer reads `stopped` before a batch, and
    // by POLL_MS on each look at `paused` after the first while paused (the trainer looks once,
    // then starts timing the pause, then polls). The run resumes on the POLLS-th poll.
    const BATCH_MS = PROGRESS_INTERVAL_MS + 50
    const POLL_MS = 100
    const POLLS = 5
    let paused = false
    let pausedReads = 0
    const signal = {
      get stopped() {
        if (!paused) vi.advanceTimersByTime(BATCH_MS)
        return false
      },
      get paused() {
        if (paused && ++pausedReads > 1) {
          vi.advanceTimersByTime(POLL_MS)
          if (pausedReads > POLLS) paused = false
        }
        return paused
      }
    }
    const elapsed: number[] = []
    const clock: number[] = []
    let progressWhilePaused = 0
    const sink: TrainerSink = {
      progress: (e) => {
        elapsed.push(e.elapsedMs)
        clock.push(performance.now())
        if (paused) progressWhilePaused++
        if (elapsed.length === 1) paused = true
      },
      epoch: () => {}
    }
    vi.useFakeTimers({ toFake: ['performance'] })
    try {
      const result = await train(getPreset('lenet').spec, h, data, sink, signal, 'p')
      expect(result.status).toBe('completed')
      expect(result.epochsDone).toBe(2)
    } finally {
      vi.useRealTimers()
      data.dispose()
    }
    // It held: it polled until resumed, and trained no batch while paused.
    expect(pausedReads).toBe(POLLS + 1)
    expect(progressWhilePaused).toBe(0)
    // clock - elapsed is the (moved) start of the run: it moves by exactly the pause.
    expect(elapsed.length).toBeGreaterThan(2)
    expect(clock.at(-1)! - elapsed.at(-1)! - (clock[0] - elapsed[0])).toBe(POLLS * POLL_MS)
    expect(elapsed.at(-1)!).toBeGreaterThan(elapsed[0])
  })

  it('stops a paused run without training another batch', async () => {
    const { h, data } = prepared({ epochs: 3 })
    const signal = { stopped: false, paused: false }
    let batches = 0
    const sink: TrainerSink = {
      progress: () => {
        batches++
        if (batches === 1) {
          signal.paused = true
          setTimeout(() => (signal.stopped = true), 200)
        }
      },
      epoch: () => {}
    }
    const result = await train(getPreset('lenet').spec, h, data, sink, signal, 'q')
    data.dispose()
    expect(result.status).toBe('stopped')
    // The one batch of epoch 1 is not an epoch: nothing is saved, and no model is scored.
    expect(result.epochsDone).toBe(0)
    expect(batches).toBe(1)
    expect(result.test).toBeNull()
    expect(result.note).toMatch(/Stopped in epoch 1 after 1 of 16 batches/)
  })
})

describe('train: a stop mid-epoch', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
  })

  it('never counts the partial epoch as whole: the result and its test score are of the last whole epoch', async () => {
    // A constant rate, so epoch 1 trains alike in a 1-epoch and a 3-epoch run (cosine would not).
    const h = hyperSchema.parse({ epochs: 3, validationSplit: 0.25, batchSize: 16, schedule: 'none' })
    const ds = syntheticMnist()
    const data = prepareData(ds, planSplit(ds.train.count, h.validationSplit, h.seed), false)
    // Reference: the same seed trained for exactly one epoch.
    const one = await train(getPreset('lenet').spec, { ...h, epochs: 1 }, data, { progress: () => {}, epoch: () => {} }, { stopped: false }, 's', { threads: 1 })
    // The loop reads `stopped` once before each batch: 12 batches in epoch 1, then 2 of epoch 2.
    let reads = 0
    const signal = {
      get stopped() {
        return ++reads > 14
      }
    }
    const epochs: number[] = []
    const sink: TrainerSink = { progress: () => {}, epoch: (m) => epochs.push(m.epoch) }
    const result = await train(getPreset('lenet').spec, h, data, sink, signal, 's', { threads: 1 })
    data.dispose()
    expect(result.status).toBe('stopped')
    expect(epochs).toEqual([1])
    expect(result.epochsDone).toBe(1)
    expect(result.note).toMatch(/Stopped in epoch 2 after \d+ of 12 batches.*the one after epoch 1.*trains epoch 2 again/)
    // Scored with epoch 1's weights, not the half-trained ones.
    expect(result.test).toEqual(one.test)
  })
})

describe('train: divergence', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
  })

  it('stops with LOSS_DIVERGED, saying to lower the learning rate, when the loss is not finite', async () => {
    const h = hyperSchema.parse({ epochs: 3, validationSplit: 0, batchSize: 32 })
    const ds = syntheticMnist()
    // Pixels of Infinity make the logits, and so the loss, NaN on the first batch.
    const data = prepareData(ds, planSplit(ds.train.count, h.validationSplit, h.seed), false, (v) => v.fill(Infinity))
    const before = tf.memory().numTensors
    const epochs: EpochMetrics[] = []
    const sink: TrainerSink = { progress: () => {}, epoch: (m) => epochs.push(m) }
    // No ReLU in between: ReLU on wasm maps NaN to 0 and would hide it.
    const linear = modelSpecSchema.parse({ ...getPreset('lenet').spec, layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }] })
    const failure = await train(linear, h, data, sink, { stopped: false }, 'd').catch((e: unknown) => e)
    const after = tf.memory().numTensors
    data.dispose()
    expect(failure).toMatchObject({ code: 'LOSS_DIVERGED' })
    expect((failure as Error).message).toMatch(/Lower it/)
    expect((failure as Error).message).toMatch(/became NaN in epoch 1, batch 1/)
    expect(epochs).toHaveLength(0)
    expect(after).toBe(before)
  })
})

describe('train: hyperparameters', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
  })

  it('trains each epoch at the cosine schedule learning rate and reports it', async () => {
    const lr = 0.01
    const seen = await run({ epochs: 4, optimizer: 'sgd', learningRate: lr, schedule: 'cosine' })
    const expected = [0, 1, 2, 3].map((done) => (lr * (1 + Math.cos((Math.PI * done) / 4))) / 2)
    seen.metrics.forEach((m, i) => expect(m.learningRate).toBeCloseTo(expected[i], 10))
    expect(expected[2]).toBeCloseTo(lr / 2, 10)
  })

  it('cosine anneals every batch, as CosineAnnealingLR stepped per batch: rate at a fraction of an epoch', () => {
    const h = hyperSchema.parse({ learningRate: 0.01, schedule: 'cosine', epochs: 2 })
    expect(learningRateAt(h, 1)).toBeCloseTo(0.01, 12)
    expect(learningRateAt(h, 1, 0.5)).toBeCloseTo((0.01 * (1 + Math.cos(Math.PI / 4))) / 2, 12)
    expect(learningRateAt(h, 2)).toBeCloseTo(0.005, 12)
    expect(learningRateAt(h, 2, 0.999)).toBeLessThan(1e-7)
    // Step and constant schedules change only between epochs.
    expect(learningRateAt({ ...h, schedule: 'step', stepSize: 1, gamma: 0.5 }, 2, 0.9)).toBe(0.005)
    expect(learningRateAt({ ...h, schedule: 'none' }, 2, 0.9)).toBe(0.01)
  })

  it.each([1, 2])('a one-epoch cosine run lowers the rate between batches (%i threads)', async (threads) => {
    // Per epoch, a one-epoch cosine run would train at the full rate throughout, like 'none'.
    const hyper = { epochs: 1, batchSize: 64, optimizer: 'sgd', learningRate: 0.1 } as const
    const constant = await run({ ...hyper, schedule: 'none' }, threads)
    const cosine = await run({ ...hyper, schedule: 'cosine' }, threads)
    expect(cosine.threads).toBe(threads)
    expect(cosine.metrics[0]!.learningRate).toBe(0.1)
    expect(cosine.metrics[0]!.loss).not.toBeCloseTo(constant.metrics[0]!.loss, 6)
  })

  it('step schedule multiplies the rate by gamma every stepSize epochs, also on two threads', async () => {
    const seen = await run({ epochs: 5, batchSize: 64, optimizer: 'momentum', learningRate: 0.1, schedule: 'step', stepSize: 2, gamma: 0.5 }, 2)
    expect(seen.threads).toBe(2)
    expect(seen.metrics.map((m) => m.learningRate)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025])
    expect(seen.metrics.every((m) => Number.isFinite(m.loss))).toBe(true)
    expect(seen.tensorsAfterRun).toBe(seen.tensorsBefore)
  })

  it('weight decay shrinks weights by lr × decay × weight when the gradient is zero (PyTorch SGD)', () => {
    const optimizer = makeOptimizer(hyperSchema.parse({ optimizer: 'sgd', learningRate: 0.1, weightDecay: 0.5 }))
    const v = tf.variable(tf.tensor1d([1, -2, 4]), true, 'wd-test')
    optimizer.applyGradients({ [v.name]: tf.zeros([3]) })
    expect(Array.from(v.dataSync())).toEqual([0.95, -1.9, 3.8].map((x) => Math.fround(x)))
    const plain = makeOptimizer(hyperSchema.parse({ optimizer: 'sgd', learningRate: 0.1 }))
    plain.applyGradients({ [v.name]: tf.zeros([3]) })
    expect(Array.from(v.dataSync())).toEqual([0.95, -1.9, 3.8].map((x) => Math.fround(x)))
    optimizer.dispose()
    plain.dispose()
    v.dispose()
  })

  it('early stopping ends the run once validation loss has not improved for `patience` epochs', async () => {
    const h = hyperSchema.parse({ epochs: 12, validationSplit: 0.25, optimizer: 'adam', learningRate: 0.01, earlyStopping: 2 })
    const ds = syntheticMnist()
    const data = prepareData(ds, planSplit(ds.train.count, h.validationSplit, h.seed), false)
    const metrics: EpochMetrics[] = []
    const sink: TrainerSink = { progress: () => {}, epoch: (m) => metrics.push(m) }
    const result = await train(getPreset('lenet').spec, h, data, sink, { stopped: false }, 'es')
    data.dispose()
    // Random labels: validation loss soon stops improving, so the run ends well before epoch 12.
    expect(result.status).toBe('completed')
    expect(result.epochsDone).toBeLessThan(12)
    expect(metrics).toHaveLength(result.epochsDone)
    const losses = metrics.map((m) => m.valLoss!)
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1
    expect(result.epochsDone - bestEpoch).toBe(2)
    expect(result.note).toMatch(new RegExp(`not improved for 2 epochs .*after epoch ${bestEpoch}\\), so training ended after epoch ${result.epochsDone}`))
  })
})

describe('train: resume from a checkpoint', () => {
  beforeAll(async () => {
    await selectBackend('wasm')
  })

  it('continues epoch 2 exactly as an uninterrupted run does (weights, Adam state, shuffle order)', async () => {
    const h = hyperSchema.parse({ epochs: 2, validationSplit: 0.25, batchSize: 16, optimizer: 'adam', learningRate: 0.003 })
    const ds = syntheticMnist()
    const data = prepareData(ds, planSplit(ds.train.count, h.validationSplit, h.seed), false)
    const full: EpochMetrics[] = []
    let saved: { weights: WeightTensor[]; optimizer: WeightTensor[] } | null = null
    await train(getPreset('lenet').spec, h, data, {
      progress: () => {},
      epoch: (m, weights, optimizer) => {
        full.push(m)
        if (m.epoch === 1) saved = { weights, optimizer }
      }
    }, { stopped: false }, 'r')
    expect(saved!.optimizer.map((w) => w.name)[0]).toBe('iter')
    // Adam keeps two moments per weight, after the step count.
    expect(saved!.optimizer).toHaveLength(1 + 2 * saved!.weights.length)
    const resumed: EpochMetrics[] = []
    const before = tf.memory().numTensors
    const result = await train(getPreset('lenet').spec, h, data, { progress: () => {}, epoch: (m) => resumed.push(m) }, { stopped: false }, 'r', {
      resume: { epochsDone: 1, weights: saved!.weights, optimizer: saved!.optimizer, valLosses: [full[0].valLoss] }
    })
    const after = tf.memory().numTensors
    data.dispose()
    expect(resumed.map((m) => m.epoch)).toEqual([2])
    expect(result.epochsDone).toBe(2)
    expect(resumed[0].loss).toBeCloseTo(full[1].loss, 5)
    expect(resumed[0].valLoss!).toBeCloseTo(full[1].valLoss!, 5)
    expect(after).toBe(before)
  })
})
