import { z } from 'zod'
import { runIdSchema } from './types'
import { hyperSchema } from '../hyper'
import { modelSpecSchema } from '../model/spec'

/** Largest base64 text of one file in a `runs:import` request (about 36 MB of weights). */
export const MAX_IMPORT_FILE_BASE64_CHARS = 48_000_000

/** A file sent whole between renderer and main: its name and base64 contents. */
export const exchangeFileSchema = z.strictObject({
  name: z.string().min(1).max(255),
  base64: z.string().max(MAX_IMPORT_FILE_BASE64_CHARS)
})
export type ExchangeFile = z.infer<typeof exchangeFileSchema>

export const runExportRequestSchema = z.strictObject({ runId: runIdSchema })
/** model.json and weights.bin of a run's export, for the renderer to download. */
export const runExportSchema = z.object({ files: z.array(exchangeFileSchema) })
/** model.json and weights.bin chosen by the learner. */
/** model.json and weights.bin chosen by the learner, or run.json, weights.safetensors, metrics.jsonl (and evaluation.json) from train.py. */
export const runImportRequestSchema = z.strictObject({ files: z.array(exchangeFileSchema).min(1).max(4) })

/**
 * A PyTorch export written into the data folder (a browser cannot write where the learner picks):
 * a kept run with its trained weights, or a model with training settings from the Model tab.
 */
export const pytorchExportRequestSchema = z.union([
  z.strictObject({ format: z.enum(['pytorch', 'notebook']), runId: runIdSchema }),
  z.strictObject({
    format: z.enum(['pytorch', 'notebook']),
    spec: modelSpecSchema,
    dataset: z.string().min(1).max(1000),
    hyper: hyperSchema
  })
])
export type PytorchExportRequest = z.infer<typeof pytorchExportRequestSchema>
/** Where the export was written and its files. */
export const pytorchExportSchema = z.object({ path: z.string(), files: z.array(z.string()) })
