import { z } from 'zod'
import { errorInfoSchema } from './errors'
import { runIdSchema } from './types'

/** Largest image sent as raw pixels (3 × 64 × 64 values). */
export const MAX_INPUT_VALUES = 3 * 64 * 64
/** Most points one embedding may take, and the default. */
export const MAX_EMBED_POINTS = 10_000
export const DEFAULT_EMBED_POINTS = 2000

const pixelsSchema = z.array(z.number().min(0).max(1)).min(1).max(MAX_INPUT_VALUES)

/** What to feed the network: a test image by index, or pixels (channels × height × width, 0–1). */
export const inspectInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('test'), index: z.number().int().min(0).max(10_000_000) }),
  z.strictObject({ kind: z.literal('pixels'), pixels: pixelsSchema })
])
export type InspectInput = z.infer<typeof inspectInputSchema>

export const predictRequestSchema = z.strictObject({ runId: runIdSchema, pixels: pixelsSchema })
export const inspectRequestSchema = z.strictObject({ runId: runIdSchema, input: inspectInputSchema })
export const saliencyRequestSchema = inspectRequestSchema.extend({
  classIndex: z.number().int().min(0).max(10_000).optional()
})

const classes = z.array(z.string())

export const predictionResultSchema = z.object({
  probabilities: z.array(z.number()),
  predicted: z.number().int(),
  label: z.number().int().nullable(),
  /** Epoch of the checkpoint that answered. */
  epoch: z.number().int(),
  classes
})
export type PredictionResult = z.infer<typeof predictionResultSchema>

/** One layer's output: per-channel maps (channels × height × width) or a vector. */
export const layerOutputSchema = z.object({
  index: z.number().int(),
  type: z.string(),
  shape: z.array(z.number().int()),
  maps: z.array(z.array(z.number())).optional(),
  values: z.array(z.number()).optional(),
  /** Per map (or one for a vector). */
  min: z.array(z.number()),
  max: z.array(z.number())
})
export type LayerOutput = z.infer<typeof layerOutputSchema>

export const activationsSchema = predictionResultSchema.extend({
  input: z.object({ shape: z.array(z.number().int()), pixels: z.array(z.number()) }),
  layers: z.array(layerOutputSchema)
})
export type Activations = z.infer<typeof activationsSchema>

export const saliencySchema = predictionResultSchema.omit({ predicted: true, epoch: true }).extend({
  shape: z.tuple([z.number().int(), z.number().int()]),
  values: z.array(z.number()),
  max: z.number(),
  classIndex: z.number().int(),
  /** Grad-CAM of the last conv layer at the input's size (same shape); null without conv layers. */
  gradCam: z.object({ layer: z.number().int(), values: z.array(z.number()), max: z.number() }).nullable()
})
export type Saliency = z.infer<typeof saliencySchema>

export const convFiltersSchema = z.object({
  index: z.number().int(),
  kernelSize: z.tuple([z.number().int(), z.number().int()]),
  inChannels: z.number().int(),
  filters: z.number().int(),
  /** [filters][inChannels][kh][kw], as PyTorch stores a kernel. */
  weights: z.array(z.number()),
  absMax: z.number()
})
export type ConvFilters = z.infer<typeof convFiltersSchema>

export const denseHeatmapSchema = z.object({
  /** Position of the dense layer in the model. */
  index: z.number().int(),
  inputs: z.number().int(),
  units: z.number().int(),
  /** Cells of the heatmap: rows over inputs, columns over units. */
  rows: z.number().int(),
  cols: z.number().int(),
  /** Weights averaged into one cell: blockRows inputs × blockCols units (1 × 1 when not downsampled). */
  blockRows: z.number().int(),
  blockCols: z.number().int(),
  /** Row-major, rows × cols. */
  values: z.array(z.number()),
  absMax: z.number()
})
export type DenseHeatmap = z.infer<typeof denseHeatmapSchema>

export const filtersSchema = z.object({
  conv: z.array(convFiltersSchema),
  /** Every dense layer's weight matrix, block-averaged to at most 256 × 256 cells. */
  denseLayers: z.array(denseHeatmapSchema),
  /** A first dense layer fed straight by the image: each unit's weights as an image. */
  dense: z
    .object({
      index: z.number().int(),
      shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
      units: z.number().int(),
      shown: z.number().int(),
      templates: z.array(z.array(z.number())),
      absMax: z.number()
    })
    .nullable(),
  /** Epoch of the filters shown. */
  epoch: z.number().int(),
  /** Epoch of the run's latest checkpoint. */
  latestEpoch: z.number().int(),
  /** Epochs whose filters the run kept (ascending), for the history slider. */
  snapshots: z.array(z.number().int())
})
export type Filters = z.infer<typeof filtersSchema>

/** Filters of a run: the latest checkpoint's, or those kept after one epoch. */
export const filtersRequestSchema = z.strictObject({
  runId: runIdSchema,
  epoch: z.number().int().min(0).max(1_000_000).optional()
})

/** Most test images scanned for a filter's top images, the default, and how many are shown. */
export const MAX_TOP_IMAGES_SCANNED = 10_000
export const DEFAULT_TOP_IMAGES_SCANNED = 1000
export const TOP_IMAGES_SHOWN = 16

/** Which test images activate one channel (a conv filter's map, or a unit) of a layer most. */
export const topImagesRequestSchema = z.strictObject({
  runId: runIdSchema,
  layer: z.number().int().min(0).max(200),
  channel: z.number().int().min(0).max(100_000),
  images: z.number().int().min(1).max(MAX_TOP_IMAGES_SCANNED).default(DEFAULT_TOP_IMAGES_SCANNED)
})

export const topImagesSchema = z.object({
  layer: z.number().int(),
  channel: z.number().int(),
  /** How many test images were scored (the first ones of the test split). */
  scanned: z.number().int(),
  /** Channels × height × width of each image. */
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  /** Best first; score is the channel's mean activation on that image. */
  images: z.array(z.object({ index: z.number().int(), label: z.number().int(), score: z.number(), pixels: z.array(z.number()) })),
  classes
})
export type TopImages = z.infer<typeof topImagesSchema>

export const embedMethodSchema = z.enum(['tsne', 'pca'])
export const embedRequestSchema = z.strictObject({
  runId: runIdSchema,
  /** Index into the model's layers; -1 maps the raw pixels. */
  layer: z.number().int().min(-1).max(200),
  method: embedMethodSchema.default('tsne'),
  points: z.number().int().min(10).max(MAX_EMBED_POINTS).default(DEFAULT_EMBED_POINTS),
  perplexity: z.number().min(2).max(100).default(30),
  iterations: z.number().int().min(50).max(5000).default(1000)
})
export type EmbedRequest = z.input<typeof embedRequestSchema>

export const embedResultSchema = z.object({
  points: z.array(z.tuple([z.number(), z.number()])),
  /** Class of each point; point i is test image i. */
  labels: z.array(z.number().int()),
  layer: z.number().int(),
  method: embedMethodSchema,
  /** Width of the layer's output that was mapped. */
  dims: z.number().int(),
  explainedVariance: z.array(z.number()).optional(),
  /** Mean share of each point's 10 nearest neighbours in 2-D with the same class. */
  neighbourAgreement: z.number(),
  seconds: z.number()
})
export type EmbedResult = z.infer<typeof embedResultSchema>

export const embedJobSchema = z.strictObject({ jobId: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/) })

/** Progress, intermediate layouts and the outcome of one embedding job. */
export const embedEventSchema = z.object({
  jobId: z.string(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  phase: z.enum(['activations', 'neighbours', 'optimizing']).optional(),
  done: z.number().optional(),
  total: z.number().optional(),
  points: z.array(z.tuple([z.number(), z.number()])).optional(),
  /** Class of each point, sent once before the layout streams, so dots are coloured as they move. */
  labels: z.array(z.number().int()).optional(),
  result: embedResultSchema.extend({ dataset: z.string(), classes }).optional(),
  error: errorInfoSchema.optional()
})
export type EmbedEvent = z.infer<typeof embedEventSchema>
