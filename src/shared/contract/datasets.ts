import { z } from 'zod'
import { datasetInfoSchema, datasetRefSchema, splitSchema } from './types'

/** Most samples one `datasets:samples` request returns, so a page stays small on the wire. */
export const MAX_SAMPLES_PER_REQUEST = 200
/** Bins of the pixel histogram in `datasets:stats` (8 grey levels each). */
export const HISTOGRAM_BINS = 32

const shapeSchema = z.tuple([z.number().int(), z.number().int(), z.number().int()])

export const splitCountsSchema = z.object({
  count: z.number().int(),
  perClass: z.array(z.number().int())
})

/** Shape, classes and samples per class of both splits. */
export const datasetInspectionSchema = z.object({
  name: z.string(),
  /** [channels, height, width]. */
  shape: shapeSchema,
  classes: z.array(z.string()),
  train: splitCountsSchema,
  test: splitCountsSchema
})
export type DatasetInspection = z.infer<typeof datasetInspectionSchema>

export const datasetRequestSchema = z.strictObject({ name: datasetRefSchema })

export const samplesRequestSchema = z.strictObject({
  name: datasetRefSchema,
  split: splitSchema,
  /** Only samples of this class; all samples in file order when absent. */
  classIndex: z.number().int().min(0).max(255).optional(),
  offset: z.number().int().min(0).max(10_000_000).default(0),
  count: z.number().int().min(1).max(MAX_SAMPLES_PER_REQUEST).default(50)
})
export type SamplesRequest = z.input<typeof samplesRequestSchema>

/** One page of samples: raw bytes, so the renderer draws them without any tensor work. */
export const samplesSchema = z.object({
  name: z.string(),
  split: splitSchema,
  shape: shapeSchema,
  classIndex: z.number().int().nullable(),
  offset: z.number().int(),
  /** Samples that match the filter, for paging. */
  total: z.number().int(),
  /** Position of each sample in its split's files. */
  indices: z.array(z.number().int()),
  labels: z.array(z.number().int()),
  /** Base64 of count × height × width × channels bytes (0–255), NHWC. */
  pixels: z.string()
})
export type Samples = z.infer<typeof samplesSchema>

/** Pixel statistics of the training split, computed once per dataset. */
export const datasetStatsSchema = z.object({
  name: z.string(),
  split: z.literal('train'),
  shape: shapeSchema,
  count: z.number().int(),
  /** Mean and standard deviation of all pixel values, on the 0–1 scale. */
  mean: z.number(),
  std: z.number(),
  /** The same per channel (one entry for grayscale, R, G, B for colour). */
  channelMean: z.array(z.number()),
  channelStd: z.array(z.number()),
  /** Pixel counts in HISTOGRAM_BINS equal bins over 0–255. */
  histogram: z.array(z.number()),
  /** Base64 of classes × height × width × channels bytes: each class's mean image, rounded. */
  meanImages: z.string(),
  /** Training samples per class the means were taken over. */
  perClass: z.array(z.number().int())
})
export type DatasetStats = z.infer<typeof datasetStatsSchema>

export const importRequestSchema = z.strictObject({
  /** A folder or archive on the machine the app (or web host) runs on. */
  path: z.string().min(1).max(4096),
  name: z.string().min(1).max(64).optional(),
  /** Folder of class folders only: side of the stored square images in pixels (28 gray, 32 RGB). */
  imageSize: z.number().int().min(4).max(256).optional(),
  /** Folder of class folders only: keep one grey channel (default) or three colour channels. */
  color: z.enum(['grayscale', 'rgb']).optional(),
  /** Folder of class folders without train/ and test/: share of each class held out (0.2). */
  testFraction: z.number().gt(0).lt(1).optional(),
  /** Replace a dataset of the same name; without it, an import never overwrites one. */
  replace: z.boolean().optional()
})
export type ImportRequest = z.input<typeof importRequestSchema>

/** The imported dataset; skippedFiles counts files in class folders that were not PNG or JPEG. */
export const importResultSchema = datasetInfoSchema.extend({
  skippedFiles: z.number().int().optional()
})
export type ImportResult = z.infer<typeof importResultSchema>

export const probeRequestSchema = z.strictObject({ path: z.string().min(1).max(4096) })
/** What an import of a path would read: a folder of class folders of images, or dataset files. */
export const probeSchema = z.object({ kind: z.enum(['images', 'files']) })
export type Probe = z.infer<typeof probeSchema>

export const downloadRequestSchema = z.strictObject({ name: z.string().min(1).max(64) })

/** How far an import or download has come; totalBytes is null when unknown. */
export const datasetProgressSchema = z.object({
  name: z.string(),
  phase: z.enum(['download', 'import']),
  file: z.string(),
  fileIndex: z.number().int(),
  fileCount: z.number().int(),
  receivedBytes: z.number(),
  totalBytes: z.number().nullable()
})
export type DatasetProgress = z.infer<typeof datasetProgressSchema>
