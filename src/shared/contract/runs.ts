import { z } from 'zod'
import { errorInfoSchema } from './errors'
import { datasetRefSchema, epochMetricsSchema, runIdSchema, runRecordSchema, splitSchema } from './types'

/** Most misclassified test images an evaluation keeps, most confident first. */
export const MAX_MISCLASSIFIED = 100
/** Random test predictions an evaluation shows by default. */
export const DEFAULT_RANDOM_PREDICTIONS = 24
/** Most images one `datasets:images` request returns. */
export const MAX_IMAGES_PER_REQUEST = 200
/** Longest run name and notes accepted. */
export const MAX_RUN_NAME_CHARS = 120
export const MAX_RUN_NOTES_CHARS = 10_000

const classProbSchema = z.object({ classIndex: z.number().int(), probability: z.number() })

/** A test image the model got wrong, with its three most likely classes. */
export const misclassifiedSchema = z.object({
  index: z.number().int(),
  label: z.number().int(),
  predicted: z.number().int(),
  /** Probability of the predicted class. */
  confidence: z.number(),
  top: z.array(classProbSchema)
})
export type Misclassified = z.infer<typeof misclassifiedSchema>

/** One test prediction, right or wrong. */
export const predictionSchema = z.object({
  index: z.number().int(),
  label: z.number().int(),
  predicted: z.number().int(),
  confidence: z.number(),
  correct: z.boolean()
})
export type Prediction = z.infer<typeof predictionSchema>

/** What evaluating a run's checkpoint on the whole test split gives; `evaluation.json` holds it. */
export const evaluationSchema = z.object({
  runId: runIdSchema,
  /** Epoch of the checkpoint that was evaluated. */
  epoch: z.number().int(),
  dataset: z.string(),
  classes: z.array(z.string()),
  testAccuracy: z.number(),
  testLoss: z.number(),
  testCount: z.number().int(),
  /** Right answers per true class (null where the test split has none of that class). */
  perClassAccuracy: z.array(z.number().nullable()),
  perClassCount: z.array(z.number().int()),
  /** rows: true class, columns: predicted class; entries sum to testCount. */
  confusionMatrix: z.array(z.array(z.number().int())),
  /** True and predicted class of every test image, in file order (for opening a matrix cell). */
  labels: z.array(z.number().int()),
  predictions: z.array(z.number().int()),
  misclassifiedCount: z.number().int(),
  misclassified: z.array(misclassifiedSchema),
  samples: z.array(predictionSchema),
  seconds: z.number()
})
export type Evaluation = z.infer<typeof evaluationSchema>

export const runRefSchema = z.strictObject({ runId: runIdSchema })

export const runDetailsSchema = z.object({
  record: runRecordSchema,
  metrics: z.array(epochMetricsSchema)
})
export type RunDetails = z.infer<typeof runDetailsSchema>

export const runRenameSchema = z.strictObject({
  runId: runIdSchema,
  name: z.string().max(MAX_RUN_NAME_CHARS)
})
export const runNotesSchema = z.strictObject({
  runId: runIdSchema,
  notes: z.string().max(MAX_RUN_NOTES_CHARS)
})

/** Emitted while a run is evaluated (progress), when its evaluation is stored, or when it failed. */
export const evaluationEventSchema = z.object({
  runId: runIdSchema,
  /** Test images scored so far. */
  progress: z.object({ done: z.number().int(), total: z.number().int() }).optional(),
  evaluation: evaluationSchema.optional(),
  error: errorInfoSchema.optional()
})
export type EvaluationEvent = z.infer<typeof evaluationEventSchema>

export const imagesRequestSchema = z.strictObject({
  name: datasetRefSchema,
  split: splitSchema,
  indices: z.array(z.number().int().min(0)).min(1).max(MAX_IMAGES_PER_REQUEST)
})
export type ImagesRequest = z.input<typeof imagesRequestSchema>

/** Images picked by index: raw bytes, so the renderer draws them without tensor work. */
export const imagesSchema = z.object({
  /** [channels, height, width]. */
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  indices: z.array(z.number().int()),
  labels: z.array(z.number().int()),
  /** Base64 of count × height × width × channels bytes (0–255), NHWC. */
  pixels: z.string()
})
export type Images = z.infer<typeof imagesSchema>
