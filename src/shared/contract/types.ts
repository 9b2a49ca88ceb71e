import { z } from 'zod'
import { modelSpecSchema } from '../model/spec'
import { backendNameSchema, hyperSchema, normalizationSchema } from '../hyper'
import { errorInfoSchema } from './errors'

export const splitSchema = z.enum(['train', 'test'])
export type Split = z.infer<typeof splitSchema>

export const datasetInfoSchema = z.object({
  name: z.string(),
  title: z.string(),
  /** [channels, height, width] as PyTorch prints it. */
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  classes: z.array(z.string()),
  available: z.boolean(),
  source: z.enum(['bundled', 'downloaded', 'imported', 'builtin-missing']),
  trainCount: z.number().int(),
  testCount: z.number().int()
})
export type DatasetInfo = z.infer<typeof datasetInfoSchema>

export const datasetRefSchema = z.string().min(1).max(4096)

export const presetInfoSchema = z.object({
  id: z.string(),
  title: z.string(),
  note: z.string(),
  spec: modelSpecSchema
})
export type PresetInfo = z.infer<typeof presetInfoSchema>

export const engineStateSchema = z.enum(['stopped', 'starting', 'ready', 'crashed'])
export type EngineState = z.infer<typeof engineStateSchema>

export const engineStatusSchema = z.object({
  state: engineStateSchema,
  backend: backendNameSchema.nullable(),
  message: z.string().optional()
})
export type EngineStatus = z.infer<typeof engineStatusSchema>

export const runStatusSchema = z.enum(['starting', 'running', 'paused', 'completed', 'stopped', 'failed'])
export type RunStatus = z.infer<typeof runStatusSchema>

export const trainingStartSchema = z.strictObject({
  spec: modelSpecSchema,
  dataset: datasetRefSchema,
  hyper: hyperSchema
})
export type TrainingStart = z.infer<typeof trainingStartSchema>
export type TrainingStartInput = z.input<typeof trainingStartSchema>

export const runIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,80}$/, 'a run id has letters, digits, "-" and "_" only')

/** Throttled batch-level progress (about ten a second). */
export const progressEventSchema = z.object({
  runId: runIdSchema,
  epoch: z.number().int(),
  epochs: z.number().int(),
  batch: z.number().int(),
  batchesPerEpoch: z.number().int(),
  /** Loss of the latest batch on the training split. */
  loss: z.number(),
  /** Accuracy of the latest batch on the training split. */
  accuracy: z.number(),
  samplesPerSecond: z.number(),
  elapsedMs: z.number(),
  etaMs: z.number(),
  /** A mid-epoch check on a sample of the validation split (long epochs only); absent otherwise. */
  valLoss: z.number().optional(),
  valAccuracy: z.number().optional(),
  /** How many validation images the mid-epoch check scored. */
  valCount: z.number().int().optional()
})
export type ProgressEvent = z.infer<typeof progressEventSchema>

export const epochMetricsSchema = z.object({
  epoch: z.number().int(),
  /** Mean loss and accuracy over the epoch's training batches. */
  loss: z.number(),
  accuracy: z.number(),
  /** On the held-out validation split; null when the split is 0. */
  valLoss: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  seconds: z.number(),
  samplesPerSecond: z.number(),
  /** The learning rate this epoch trained with (changes under a schedule); absent in old runs. */
  learningRate: z.number().optional()
})
export type EpochMetrics = z.infer<typeof epochMetricsSchema>

export const epochEventSchema = epochMetricsSchema.extend({ runId: runIdSchema })
export type EpochEvent = z.infer<typeof epochEventSchema>

export const testMetricsSchema = z.object({
  testAccuracy: z.number(),
  testLoss: z.number(),
  testCount: z.number().int()
})
export type TestMetrics = z.infer<typeof testMetricsSchema>

export const runStatusEventSchema = z.object({
  runId: runIdSchema,
  status: runStatusSchema,
  backend: backendNameSchema.optional(),
  params: z.number().int().optional(),
  /** What the engine chose that the learner did not ask for (another backend, threads). */
  notes: z.array(z.string()).optional(),
  test: testMetricsSchema.optional(),
  error: errorInfoSchema.optional(),
  /** Why a run ended early without being stopped (early stopping), in plain words. */
  note: z.string().optional()
})
export type RunStatusEvent = z.infer<typeof runStatusEventSchema>

/** A run's input scaling: the mode, and the training split's per-channel statistics for `dataset`. */
export const preprocessingSchema = z.object({
  normalization: normalizationSchema,
  mean: z.array(z.number()).optional(),
  std: z.array(z.number()).optional()
})
export type Preprocessing = z.infer<typeof preprocessingSchema>

/** Who trained a run that came from elsewhere: train.py of a PyTorch export, how many processes, where. */
export const trainedBySchema = z.object({
  engine: z.literal('pytorch'),
  version: z.string().max(100),
  device: z.string().max(200),
  worldSize: z.number().int().min(1).max(100_000),
  batchPerProcess: z.number().int().min(1).optional(),
  globalBatch: z.number().int().min(1).optional()
})
export type TrainedBy = z.infer<typeof trainedBySchema>

export const runRecordSchema = z.object({
  id: runIdSchema,
  createdAt: z.string(),
  status: runStatusSchema,
  spec: modelSpecSchema,
  dataset: z.string(),
  hyper: hyperSchema,
  backend: backendNameSchema.nullable(),
  params: z.number().int(),
  epochsDone: z.number().int(),
  test: testMetricsSchema.nullable(),
  error: errorInfoSchema.nullable(),
  /** How inputs were scaled in training; every later use of the model scales them the same way. */
  preprocessing: preprocessingSchema.optional(),
  /** A name and notes the learner gives the run in the Runs view. */
  name: z.string().optional(),
  notes: z.string().optional(),
  /** The run and epoch this run was branched from (its weights and optimizer state then). */
  branchOf: z.object({ runId: runIdSchema, epoch: z.number().int() }).optional(),
  /** sha256 of the dataset's files when the run started; see DatasetHasher. */
  datasetHash: z.string().optional(),
  /**
   * Not stored: set when listing or reading a run whose dataset no longer holds the data it
   * trained on (replaced or re-imported since).
   */
  datasetChanged: z.boolean().optional(),
  /** Set on runs trained by an exported PyTorch project and imported back. */
  trainedBy: trainedBySchema.optional()
})

export const runBranchSchema = z.strictObject({
  runId: runIdSchema,
  /** The branch trains on with this learning rate. */
  learningRate: z.number().positive().max(10),
  /** Total epochs of the branch; by default the parent's. */
  epochs: z.number().int().min(1).max(1000).optional()
})
export type RunBranch = z.infer<typeof runBranchSchema>
/** What `runs/<id>/run.json` holds. */
export type RunRecord = z.infer<typeof runRecordSchema>

export const appInfoSchema = z.object({
  version: z.string(),
  host: z.enum(['electron', 'web', 'cli']),
  dataDir: z.string()
})
export type AppInfo = z.infer<typeof appInfoSchema>
