import { z } from 'zod'
import { runInputNormalizer } from '../run-preprocessing'
import type { Normalizer } from '../preprocess'
import { tf } from '../tf'
import { defineMethod } from './types'
import { modelFromCheckpoint } from '../checkpoint'
import { readCheckpoint } from '../../data/runs/run-folder'
import { seededRandom } from '../data'
import { datasetSourceSchema } from '../../shared/engine-protocol'
import { WorkbenchError } from '../../shared/contract/errors'
import { runIdSchema } from '../../shared/contract/types'
import {
  DEFAULT_RANDOM_PREDICTIONS,
  MAX_IMAGES_PER_REQUEST,
  MAX_MISCLASSIFIED,
  type Evaluation,
  type Misclassified,
  type Prediction
} from '../../shared/contract/runs'
import type { SplitData } from '../../data/datasets/types'

/** Test images per forward pass: bounded so memory stays flat on CIFAR-sized splits. */
const EVAL_BATCH_SIZE = 500
/** Classes listed with each misclassified image. */
const TOP_K = 3

export const evaluateParamsSchema = z.object({
  runId: runIdSchema,
  /** The run's folder; the engine reads `model/` under it. */
  runDir: z.string().min(1).max(4096),
  dataset: datasetSourceSchema,
  randomCount: z.number().int().min(0).max(MAX_IMAGES_PER_REQUEST).default(DEFAULT_RANDOM_PREDICTIONS),
  seed: z.number().int().min(0).default(0)
})
export type EvaluateParams = z.input<typeof evaluateParamsSchema>

/** Progress payload of `evaluate`: test images scored so far. */
export interface EvaluateProgress {
  done: number
  total: number
}

/** Test images [start, start + size) as floats in [0, 1], the scaling the trainer uses. */
function batchTensor(
  split: SplitData,
  shape: [number, number, number],
  start: number,
  size: number,
  normalize: Normalizer
): tf.Tensor4D {
  const [c, h, w] = shape
  const per = c * h * w
  const floats = Float32Array.from(split.images.subarray(start * per, (start + size) * per), (v) => v / 255)
  return tf.tensor4d(normalize(floats), [size, h, w, c])
}

/** `evaluate`: scores a run's checkpoint on the whole test split, with the details a learner reads. */
export const evaluateMethod = defineMethod(evaluateParamsSchema, async (p, ctx): Promise<Evaluation> => {
  const started = performance.now()
  const ckpt = await readCheckpoint(p.runDir)
  const ds = await ctx.loadDataset(p.dataset)
  const normalize = await runInputNormalizer(p.runDir, ds.shape)
  const k = ds.classes.length
  const [c, h, w] = ds.shape
  const inp = ckpt.spec.input
  if (inp.channels !== c || inp.height !== h || inp.width !== w) {
    throw new WorkbenchError(
      'INCOMPATIBLE',
      `The run's model takes ${inp.channels} × ${inp.height} × ${inp.width} images but ${ds.name} has ${c} × ${h} × ${w}.`
    )
  }
  const model = modelFromCheckpoint(ckpt)
  const n = ds.test.count
  const labels = Array.from(ds.test.labels.subarray(0, n))
  const predictions = new Array<number>(n)
  const confidence = new Float32Array(n)
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  const wrong: Misclassified[] = []
  let lossSum = 0
  try {
    for (let start = 0; start < n; start += EVAL_BATCH_SIZE) {
      if (ctx.signal.aborted) throw new WorkbenchError('CANCELLED', 'The evaluation was cancelled.')
      const size = Math.min(EVAL_BATCH_SIZE, n - start)
      const logProbs = tf.tidy(() => tf.logSoftmax(model.forward(batchTensor(ds.test, ds.shape, start, size, normalize), false)))
      const values = (await logProbs.data()) as Float32Array
      logProbs.dispose()
      if (values.length !== size * k) {
        throw new WorkbenchError('INCOMPATIBLE', `The model gives ${values.length / size} outputs but ${ds.name} has ${k} classes.`)
      }
      for (let i = 0; i < size; i++) {
        const row = values.subarray(i * k, (i + 1) * k)
        const index = start + i
        const label = labels[index]
        let best = 0
        for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j
        predictions[index] = best
        confidence[index] = Math.exp(row[best])
        lossSum -= row[label]
        matrix[label][best]++
        if (best !== label) {
          const top = Array.from(row, (lp, classIndex) => ({ classIndex, probability: Math.exp(lp) }))
            .sort((a, b) => b.probability - a.probability)
            .slice(0, TOP_K)
          wrong.push({ index, label, predicted: best, confidence: confidence[index], top })
        }
      }
      ctx.progress({ done: start + size, total: n } satisfies EvaluateProgress)
      // Let a cancel message in between batches.
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    model.dispose()
  }
  const perClassCount = matrix.map((row) => row.reduce((a, b) => a + b, 0))
  const correct = matrix.reduce((a, row, i) => a + row[i], 0)
  const random = seededRandom(p.seed)
  const picked = new Set<number>()
  while (picked.size < Math.min(p.randomCount, n)) picked.add(Math.floor(random() * n))
  const samples: Prediction[] = [...picked].map((index) => ({
    index,
    label: labels[index],
    predicted: predictions[index],
    confidence: confidence[index],
    correct: labels[index] === predictions[index]
  }))
  wrong.sort((a, b) => b.confidence - a.confidence)
  return {
    runId: p.runId,
    epoch: ckpt.epoch,
    dataset: ds.name,
    classes: ds.classes,
    testAccuracy: n > 0 ? correct / n : 0,
    testLoss: n > 0 ? lossSum / n : 0,
    testCount: n,
    perClassAccuracy: matrix.map((row, i) => (perClassCount[i] > 0 ? row[i] / perClassCount[i] : null)),
    perClassCount,
    confusionMatrix: matrix,
    labels,
    predictions,
    misclassifiedCount: wrong.length,
    misclassified: wrong.slice(0, MAX_MISCLASSIFIED),
    samples,
    seconds: (performance.now() - started) / 1000
  }
})
