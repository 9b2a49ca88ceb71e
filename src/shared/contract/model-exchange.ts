import { z } from 'zod'
import { runIdSchema } from './types'

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
export const runImportRequestSchema = z.strictObject({ files: z.array(exchangeFileSchema).min(1).max(2) })
