import { z } from 'zod'
import { modelSpecSchema } from './model/spec'
import { backendNameSchema, hyperSchema } from './hyper'
import { errorInfoSchema } from './contract/errors'
import {
  epochMetricsSchema,
  preprocessingSchema,
  progressEventSchema,
  runIdSchema,
  testMetricsSchema
} from './contract/types'

/**
 * Messages between the main process (supervisor) and the engine process. The engine is the only
 * process that loads TensorFlow.js; these messages carry plain JSON and typed arrays only.
 */
export const datasetSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('idx'),
    name: z.string(),
    classes: z.array(z.string()),
    trainImages: z.string(),
    trainLabels: z.string(),
    testImages: z.string(),
    testLabels: z.string()
  }),
  z.object({
    kind: z.literal('cifar10'),
    name: z.string(),
    classes: z.array(z.string()),
    trainFiles: z.array(z.string()),
    testFiles: z.array(z.string())
  })
])

export const trainJobSchema = z.object({
  runId: runIdSchema,
  spec: modelSpecSchema,
  hyper: hyperSchema,
  dataset: datasetSourceSchema,
  /** Go on from the checkpoint in this run folder (weights and optimizer state), to hyper.epochs. */
  resumeFrom: z
    .object({ runDir: z.string(), valLosses: z.array(z.number().nullable()) })
    .optional()
})
export type TrainJob = z.infer<typeof trainJobSchema>

export const toEngineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('train'), job: trainJobSchema }),
  z.object({ type: z.literal('stop'), runId: runIdSchema }),
  /** Holds the running job between batches (its clock stopped) until 'resume' or 'stop'. */
  z.object({ type: z.literal('pause'), runId: runIdSchema }),
  z.object({ type: z.literal('resume'), runId: runIdSchema }),
  z.object({ type: z.literal('ping'), id: z.number() }),
  z.object({ type: z.literal('memory'), id: z.number() }),
  /** A request to one of the engine's methods (src/engine/methods); answered by one 'reply'. */
  z.object({ type: z.literal('call'), id: z.number(), method: z.string().max(100), params: z.unknown() }),
  z.object({ type: z.literal('cancel'), id: z.number() })
])
export type ToEngine = z.infer<typeof toEngineSchema>

/** One named weight tensor of a checkpoint. */
export interface WeightTensor {
  name: string
  shape: number[]
  data: Float32Array
}

/**
 * Any JavaScript number. Metrics may legitimately be NaN or infinite (a diverged validation loss,
 * a rate over a zero interval); what these schemas check is the messages' shape, so a bad
 * message becomes a typed error instead of a cast.
 */
const num = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' })
const weightTensorSchema = z.object({
  name: z.string(),
  shape: z.array(num),
  data: z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'expected a Float32Array' })
}) satisfies z.ZodType<WeightTensor>
const engineProgressSchema = z.object({
  runId: runIdSchema,
  epoch: num,
  epochs: num,
  batch: num,
  batchesPerEpoch: num,
  loss: num,
  accuracy: num,
  samplesPerSecond: num,
  elapsedMs: num,
  etaMs: num
}) satisfies z.ZodType<z.infer<typeof progressEventSchema>>
const engineEpochMetricsSchema = z.object({
  epoch: num,
  loss: num,
  accuracy: num,
  valLoss: num.nullable(),
  valAccuracy: num.nullable(),
  seconds: num,
  samplesPerSecond: num,
  learningRate: num.optional()
}) satisfies z.ZodType<z.infer<typeof epochMetricsSchema>>
const engineTestMetricsSchema = z.object({
  testAccuracy: num,
  testLoss: num,
  testCount: num
}) satisfies z.ZodType<z.infer<typeof testMetricsSchema>>

/** Every message the engine sends, validated where the main process receives it (supervisor). */
export const fromEngineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), pid: num }),
  z.object({ type: z.literal('pong'), id: num }),
  z.object({ type: z.literal('memory'), id: num, numTensors: num, numBytes: num, rssBytes: num }),
  z.object({
    type: z.literal('started'),
    runId: runIdSchema,
    backend: backendNameSchema,
    notes: z.array(z.string()),
    params: num,
    trainCount: num,
    valCount: num,
    testCount: num,
    preprocessing: preprocessingSchema
  }),
  engineProgressSchema.extend({ type: z.literal('progress') }),
  z.object({
    type: z.literal('epoch'),
    runId: runIdSchema,
    metrics: engineEpochMetricsSchema,
    weights: z.array(weightTensorSchema),
    optimizer: z.array(weightTensorSchema)
  }),
  z.object({
    type: z.literal('done'),
    runId: runIdSchema,
    status: z.enum(['completed', 'stopped']),
    test: engineTestMetricsSchema.nullable(),
    note: z.string().optional()
  }),
  z.object({ type: z.literal('failed'), runId: runIdSchema, error: errorInfoSchema }),
  z.object({ type: z.literal('error'), error: errorInfoSchema }),
  // One reply per call: a value, or an error. `value` is checked by the caller's own schema.
  z.discriminatedUnion('ok', [
    z.object({ type: z.literal('reply'), id: num, ok: z.literal(true), value: z.unknown() }),
    z.object({ type: z.literal('reply'), id: num, ok: z.literal(false), error: errorInfoSchema })
  ]),
  /** Intermediate results of a long call (t-SNE frames, evaluation progress). */
  z.object({ type: z.literal('callProgress'), id: num, payload: z.unknown() })
])
export type FromEngine = z.infer<typeof fromEngineSchema>
