import { z } from 'zod'

/** Current model file format tag; a file with another tag is refused with a clear error. */
export const MODEL_FORMAT = 'cnn-workbench.model/1'

/** Largest value accepted for any size field, so an absurd file cannot freeze shape inference. */
export const MAX_DIMENSION = 1_000_000

const positiveInt = z.number().int().min(1).max(MAX_DIMENSION)
const pair = z.tuple([positiveInt, positiveInt])
/** An integer or a [height, width] pair. */
export const sizeSchema = z.union([positiveInt, pair])
export type Size = z.infer<typeof sizeSchema>

export const activationSchema = z.enum(['relu', 'tanh', 'sigmoid', 'leakyRelu', 'elu', 'linear'])
export type Activation = z.infer<typeof activationSchema>

/** "valid", "same" or PyTorch-style zero padding applied on every side. */
export const paddingSchema = z.union([
  z.enum(['valid', 'same']),
  z.number().int().min(0).max(MAX_DIMENSION)
])
export type Padding = z.infer<typeof paddingSchema>

export const conv2dSchema = z.strictObject({
  type: z.literal('conv2d'),
  filters: positiveInt,
  kernelSize: sizeSchema,
  stride: sizeSchema.default(1),
  padding: paddingSchema.default('valid'),
  activation: activationSchema.default('linear'),
  useBias: z.boolean().default(true)
})

export const pool2dSchema = z.strictObject({
  type: z.enum(['maxPool2d', 'avgPool2d']),
  poolSize: sizeSchema,
  stride: sizeSchema.optional()
})

export const flattenSchema = z.strictObject({ type: z.literal('flatten') })

export const denseSchema = z.strictObject({
  type: z.literal('dense'),
  units: positiveInt,
  activation: activationSchema.default('linear'),
  useBias: z.boolean().default(true)
})

export const dropoutSchema = z.strictObject({
  type: z.literal('dropout'),
  rate: z.number().min(0).lt(1)
})

export const batchNormSchema = z.strictObject({ type: z.literal('batchNorm') })

export const activationLayerSchema = z.strictObject({
  type: z.literal('activation'),
  fn: activationSchema
})

export const layerSchema = z.discriminatedUnion('type', [
  conv2dSchema,
  pool2dSchema,
  flattenSchema,
  denseSchema,
  dropoutSchema,
  batchNormSchema,
  activationLayerSchema
])
export type Layer = z.infer<typeof layerSchema>
export type LayerInput = z.input<typeof layerSchema>
export type LayerType = Layer['type']
export type Conv2dLayer = z.infer<typeof conv2dSchema>
export type Pool2dLayer = z.infer<typeof pool2dSchema>
export type DenseLayer = z.infer<typeof denseSchema>

export const inputShapeSchema = z.strictObject({
  channels: positiveInt,
  height: positiveInt,
  width: positiveInt
})
export type InputShape = z.infer<typeof inputShapeSchema>

export const modelSpecSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).optional(),
  input: inputShapeSchema,
  layers: z.array(layerSchema).min(1).max(200)
})
/** A sequential network as stored in a model file, with every default filled in. */
export type ModelSpec = z.infer<typeof modelSpecSchema>
/** A model file as written by hand: defaults may be left out. */
export type ModelSpecInput = z.input<typeof modelSpecSchema>
