import { z } from 'zod'
import { modelSpecSchema } from './model/spec'
import { backendNameSchema, hyperSchema } from './hyper'
import { errorInfoSchema } from './contract/errors'
import type { Preprocessing } from './contract/types'
import { epochMetricsSchema, progressEventSchema, runIdSchema, testMetricsSchema } from './contract/types'

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

export type FromEngine =
  | { type: 'hello'; pid: number }
  /** Sent every few hundred ms so the supervisor's watchdog can tell a frozen engine. */
  | { type: 'heartbeat' }
  | { type: 'pong'; id: number }
  | { type: 'memory'; id: number; numTensors: number; numBytes: number; rssBytes: number }
  | { type: 'started'; runId: string; backend: z.infer<typeof backendNameSchema>; notes: string[]; params: number; trainCount: number; valCount: number; testCount: number; preprocessing: Preprocessing }
  | ({ type: 'progress' } & z.infer<typeof progressEventSchema>)
  | { type: 'epoch'; runId: string; metrics: z.infer<typeof epochMetricsSchema>; weights: WeightTensor[]; optimizer: WeightTensor[] }
  | { type: 'done'; runId: string; status: 'completed' | 'stopped'; test: z.infer<typeof testMetricsSchema> | null; note?: string }
  | { type: 'failed'; runId: string; error: z.infer<typeof errorInfoSchema> }
  | { type: 'error'; error: z.infer<typeof errorInfoSchema> }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: z.infer<typeof errorInfoSchema> }
  /** Intermediate results of a long call (t-SNE frames, evaluation progress). */
  | { type: 'callProgress'; id: number; payload: unknown }
