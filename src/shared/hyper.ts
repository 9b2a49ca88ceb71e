import { z } from 'zod'

export const BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const
export const backendNameSchema = z.enum(BACKENDS)
export type BackendName = z.infer<typeof backendNameSchema>
export const backendChoiceSchema = z.enum(['auto', ...BACKENDS])
export type BackendChoice = z.infer<typeof backendChoiceSchema>

/** How pixel values are scaled before training; `unit` (÷ 255) is what every run did before. */
export const NORMALIZATIONS = ['none', 'unit', 'centered', 'dataset', 'sample'] as const
export const normalizationSchema = z.enum(NORMALIZATIONS)
export type Normalization = z.infer<typeof normalizationSchema>

export const optimizerSchema = z.enum(['sgd', 'momentum', 'adam', 'rmsprop'])

/** How the learning rate changes from epoch to epoch (PyTorch's StepLR and CosineAnnealingLR). */
export const SCHEDULES = ['none', 'step', 'cosine'] as const
export const scheduleSchema = z.enum(SCHEDULES)
export type Schedule = z.infer<typeof scheduleSchema>
export type OptimizerName = z.infer<typeof optimizerSchema>

/**
 * Hyperparameters of one training run. Defaults come from `hyperSchema.parse({})`, chosen by
 * measurement on a 2-core machine (bench/RESULTS.md, "Defaults"): Adam at 0.003 with batch 64,
 * which the engine splits across both cores, and a cosine schedule over 5 epochs take LeNet on
 * full MNIST to about 98 % after the first epoch and past 99 % test accuracy in under a minute.
 * Batch 128 trains faster but one epoch then ends near 96.8 %; Adam at 0.005 ends below 99 %.
 */
export const hyperSchema = z.strictObject({
  optimizer: optimizerSchema.default('adam'),
  learningRate: z.number().positive().max(10).default(0.003),
  batchSize: z.number().int().min(1).max(4096).default(64),
  epochs: z.number().int().min(1).max(1000).default(5),
  /** Train on the first N training samples (after the validation split is carved out). */
  limit: z.number().int().min(1).optional(),
  /** Fraction of the training set held out for validation; never the test set. */
  validationSplit: z.number().min(0).max(0.9).default(0.1),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  backend: backendChoiceSchema.default('auto'),
  normalization: normalizationSchema.default('unit'),
  /** How `limit` and the validation split pick samples: file order, or in proportion per class. */
  subset: z.enum(['first', 'stratified']).default('first'),
  /** Momentum factor of 'momentum' (PyTorch SGD's momentum). */
  momentum: z.number().min(0).max(0.999).default(0.9),
  /** Adam's decay rates of the gradient's mean and of its square. */
  beta1: z.number().min(0).max(0.9999).default(0.9),
  beta2: z.number().min(0).max(0.99999).default(0.999),
  /** RMSprop's decay rate of the squared gradient (PyTorch's alpha). */
  rho: z.number().min(0).max(0.9999).default(0.99),
  /** L2 penalty added to every gradient as weightDecay × weight (PyTorch's weight_decay). */
  weightDecay: z.number().min(0).max(1).default(0),
  schedule: scheduleSchema.default('cosine'),
  /** Step schedule: multiply the learning rate by gamma every stepSize epochs. */
  stepSize: z.number().int().min(1).max(1000).default(10),
  gamma: z.number().positive().max(1).default(0.1),
  /** Stop when validation loss has not improved for this many epochs; 0 turns it off. */
  earlyStopping: z.number().int().min(0).max(1000).default(0)
})

/**
 * The learning rate of an epoch (counted from 1): PyTorch's StepLR, or CosineAnnealingLR over the
 * run's epochs down to 0 (epoch 1 trains at the full rate, as `scheduler.step()` after each epoch).
 */
export function learningRateAt(hyper: Pick<Hyper, 'learningRate' | 'schedule' | 'stepSize' | 'gamma' | 'epochs'>, epoch: number): number {
  const done = epoch - 1
  switch (hyper.schedule) {
    case 'none':
      return hyper.learningRate
    case 'step':
      return hyper.learningRate * hyper.gamma ** Math.floor(done / hyper.stepSize)
    case 'cosine':
      return (hyper.learningRate * (1 + Math.cos((Math.PI * done) / hyper.epochs))) / 2
  }
}
export type Hyper = z.infer<typeof hyperSchema>
export type HyperInput = z.input<typeof hyperSchema>

/** The hyperparameters a new run starts with. */
export const DEFAULT_HYPER: Hyper = hyperSchema.parse({})

/** Why the defaults are what they are, in a learner's words (the Train form's hint, the README). */
export const DEFAULTS_WHY =
  'Defaults, measured: Adam at 0.003, batch 64 (split across two CPU cores), 5 epochs with the ' +
  'rate falling along a cosine. LeNet reaches about 98 % on MNIST after one epoch and about ' +
  '99.1 % after five, in under a minute of training on a 2-core laptop.'
