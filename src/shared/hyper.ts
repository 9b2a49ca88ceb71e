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

/** What the app knows about one hyperparameter, besides its schema: how the CLI and the form show it. */
export interface HyperFieldInfo<S extends z.ZodType = z.ZodType> {
  /** Type, bounds and default (`hyperSchema` is built from these). */
  schema: S
  /** The CLI flag that sets it; a boolean flag when `flagSets` is given. */
  flag: `--${string}`
  /** A boolean flag sets the hyperparameter to this value. */
  flagSets?: string
  /** The value's name in the CLI's help; enums list their choices, integers say N, numbers X. */
  metavar?: string
  /** The form's label. */
  label: string
  /** How a sentence names it ("Fix the learning rate in the training settings"). */
  name: string
  /** What to do when its value is invalid. */
  hint: string
  /** The form's help line under the field. */
  help?: string
  /** The form input's step: '1' for whole numbers, 'any' for decimals. */
  step?: string
  /** The choices of an enum as the form lists them, in order, with their labels. */
  choices?: Record<string, string>
  /** Where the form shows it: laid out by hand in the main grid, or generated under Advanced. */
  form?: 'main' | 'advanced'
  /** Shown in the form only while these other settings hold (momentum only for SGD with momentum). */
  appliesTo?: { optimizer?: OptimizerName; schedule?: Schedule }
}

const field = <S extends z.ZodType>(info: HyperFieldInfo<S>): HyperFieldInfo<S> => info

/**
 * Every hyperparameter, once: its schema (type, bounds, default) and how the CLI (flag, help)
 * and the training form (label, hint, help, step, choices) present it. `hyperSchema`, the CLI's
 * parser and help, and the form's store are generated from it. Adding a hyperparameter is one
 * row here plus its use in the trainer.
 *
 * Defaults, chosen by measurement on a 2-core machine (bench/RESULTS.md, "Defaults"): Adam at
 * 0.003 with batch 64, which the engine splits across both cores, pixels standardized with the
 * training split's mean and std, and a cosine schedule annealed every batch over 6 epochs take
 * LeNet on full MNIST to 99.04-99.26 % test accuracy (seeds 0-2) in 43-54 s of training, and a
 * one-epoch run to 97.9-98.3 %. Five epochs, per-epoch cosine or [0, 1] pixels leave seed 1
 * below 99 %; Adam at 0.002 does worse.
 */
export const HYPER_FIELDS = {
  optimizer: field({
    schema: optimizerSchema.default('adam'),
    flag: '--optimizer',
    label: 'Optimizer',
    name: 'optimizer',
    hint: 'Choose one of the listed optimizers.',
    choices: { sgd: 'SGD', momentum: 'SGD with momentum', adam: 'Adam', rmsprop: 'RMSprop' },
    form: 'main'
  }),
  learningRate: field({
    schema: z.number().positive().max(10).default(0.003),
    flag: '--lr',
    label: 'Learning rate',
    name: 'learning rate',
    hint: 'Use a learning rate above 0 and at most 10; 0.001 is a good start for Adam.',
    step: 'any',
    form: 'main'
  }),
  batchSize: field({
    schema: z.number().int().min(1).max(4096).default(64),
    flag: '--batch-size',
    label: 'Batch size',
    name: 'batch size',
    hint: 'Use a whole number from 1 to 4,096.',
    step: '1',
    form: 'main'
  }),
  epochs: field({
    schema: z.number().int().min(1).max(1000).default(6),
    flag: '--epochs',
    label: 'Epochs',
    name: 'epochs',
    hint: 'Use a whole number from 1 to 1,000.',
    step: '1',
    form: 'main'
  }),
  /** Train on the first N training samples (after the validation split is carved out). */
  limit: field({
    schema: z.number().int().min(1).optional(),
    flag: '--limit',
    label: 'Training images',
    name: 'training subset size',
    hint: 'Leave it empty to use every training image, or enter a whole number of at least 1.',
    help: 'Train on N images only, for a quick try.',
    step: '1',
    form: 'main'
  }),
  /** Fraction of the training set held out for validation; never the test set. */
  validationSplit: field({
    schema: z.number().min(0).max(0.9).default(0.1),
    flag: '--val-split',
    metavar: 'F',
    label: 'Validation split (%)',
    name: 'validation split',
    hint: 'Use a percentage from 0 to 90.',
    help: 'Held out from the training images, never the test set.',
    step: '1',
    form: 'main'
  }),
  seed: field({
    schema: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    flag: '--seed',
    label: 'Seed',
    name: 'seed',
    hint: 'Use a whole number from 0 to 2,147,483,647.'
  }),
  backend: field({
    schema: backendChoiceSchema.default('auto'),
    flag: '--backend',
    label: 'Compute backend',
    name: 'backend',
    hint: 'Choose one of the listed backends.',
    choices: {
      auto: 'Auto (fastest that works)',
      tensorflow: 'TensorFlow (native)',
      webgpu: 'WebGPU',
      wasm: 'WebAssembly',
      cpu: 'Plain JavaScript (slow)'
    },
    form: 'main'
  }),
  normalization: field({
    schema: normalizationSchema.default('dataset'),
    flag: '--normalize',
    label: 'Normalization',
    name: 'normalization',
    hint: 'Choose one of the listed normalizations.',
    help:
      'How pixel values are scaled before the first layer; statistics come from the training ' +
      'images only, never the test set.',
    choices: {
      unit: 'Scale to [0, 1] (x ÷ 255)',
      centered: 'Centre on 0: (x − 0.5) ÷ 0.5',
      dataset: 'Dataset mean and std (train split)',
      sample: 'Standardize each image',
      none: 'None (raw 0–255)'
    },
    form: 'main'
  }),
  /** How `limit` and the validation split pick samples: file order, or in proportion per class. */
  subset: field({
    schema: z.enum(['first', 'stratified']).default('first'),
    flag: '--stratify',
    flagSets: 'stratified',
    label: 'Stratified: each class in proportion',
    name: 'stratified subset',
    hint: 'Tick or untick the box.',
    form: 'main'
  }),
  /** Momentum factor of 'momentum' (PyTorch SGD's momentum). */
  momentum: field({
    schema: z.number().min(0).max(0.999).default(0.9),
    flag: '--momentum',
    label: 'Momentum',
    name: 'momentum',
    hint: 'Use a number from 0 to 0.999; 0.9 is usual.',
    help: 'Share of the previous step kept in the next.',
    step: '0.01',
    form: 'advanced',
    appliesTo: { optimizer: 'momentum' }
  }),
  /** Adam's decay rates of the gradient's mean and of its square. */
  beta1: field({
    schema: z.number().min(0).max(0.9999).default(0.9),
    flag: '--beta1',
    label: 'Adam beta1',
    name: 'Adam beta1',
    hint: 'Use a number from 0 to 0.9999; 0.9 is usual.',
    help: 'Decay of the running mean of gradients.',
    step: '0.01',
    form: 'advanced',
    appliesTo: { optimizer: 'adam' }
  }),
  beta2: field({
    schema: z.number().min(0).max(0.99999).default(0.999),
    flag: '--beta2',
    label: 'Adam beta2',
    name: 'Adam beta2',
    hint: 'Use a number from 0 to 0.99999; 0.999 is usual.',
    help: 'Decay of the running mean of squared gradients.',
    step: '0.001',
    form: 'advanced',
    appliesTo: { optimizer: 'adam' }
  }),
  /** RMSprop's decay rate of the squared gradient (PyTorch's alpha). */
  rho: field({
    schema: z.number().min(0).max(0.9999).default(0.99),
    flag: '--rho',
    label: 'RMSprop rho',
    name: 'RMSprop rho',
    hint: 'Use a number from 0 to 0.9999; 0.99 is usual.',
    help: 'Decay of the running mean of squared gradients.',
    step: '0.01',
    form: 'advanced',
    appliesTo: { optimizer: 'rmsprop' }
  }),
  /** L2 penalty added to every gradient as weightDecay × weight (PyTorch's weight_decay). */
  weightDecay: field({
    schema: z.number().min(0).max(1).default(0),
    flag: '--weight-decay',
    label: 'Weight decay',
    name: 'weight decay',
    hint: 'Use a number from 0 (off) to 1; 0.0001 to 0.001 is usual.',
    help: 'Pulls every weight toward 0 (L2); 0 is off.',
    step: 'any',
    form: 'advanced'
  }),
  schedule: field({
    schema: scheduleSchema.default('cosine'),
    flag: '--schedule',
    label: 'Learning-rate schedule',
    name: 'learning-rate schedule',
    hint: 'Choose one of the listed schedules.',
    choices: { none: 'Constant', step: 'Step decay', cosine: 'Cosine (every batch, down to 0 at the end)' },
    form: 'main'
  }),
  /** Step schedule: multiply the learning rate by gamma every stepSize epochs. */
  stepSize: field({
    schema: z.number().int().min(1).max(1000).default(10),
    flag: '--step-size',
    label: 'Step size (epochs)',
    name: 'step size',
    hint: 'Use a whole number of epochs from 1 to 1,000.',
    help: 'Lower the rate every this many epochs.',
    step: '1',
    form: 'advanced',
    appliesTo: { schedule: 'step' }
  }),
  gamma: field({
    schema: z.number().positive().max(1).default(0.1),
    flag: '--gamma',
    label: 'Gamma',
    name: 'gamma',
    hint: 'Use a factor above 0 and at most 1, such as 0.1.',
    help: 'Factor the rate is multiplied by at each step.',
    step: 'any',
    form: 'advanced',
    appliesTo: { schedule: 'step' }
  }),
  /** Stop when validation loss has not improved for this many epochs; 0 turns it off. */
  earlyStopping: field({
    schema: z.number().int().min(0).max(1000).default(0),
    flag: '--early-stopping',
    label: 'Early stopping (epochs)',
    name: 'early stopping',
    hint: 'Use a whole number of epochs from 0 (off) to 1,000.',
    help: 'Stop when validation loss has not improved for this many epochs; 0 is off.',
    step: '1',
    form: 'advanced'
  })
}

type HyperShape = { [K in keyof typeof HYPER_FIELDS]: (typeof HYPER_FIELDS)[K]['schema'] }

/** Hyperparameters of one training run, validated with the schemas of HYPER_FIELDS. */
export const hyperSchema = z.strictObject(
  Object.fromEntries(Object.entries(HYPER_FIELDS).map(([key, f]) => [key, f.schema])) as HyperShape
)

/** The schema inside a field's default or optional wrapper: its type and bounds. */
export function innerSchema(schema: z.ZodType): z.ZodType {
  let s = schema
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType
  return s
}

/**
 * The learning rate at a point of training: `epoch` counted from 1, `progress` the fraction of
 * that epoch already done (0 at its first batch). Step: PyTorch's StepLR, stepped after each
 * epoch. Cosine: PyTorch's CosineAnnealingLR stepped after every batch, over the run's batches
 * down to 0, so even a one-epoch run ends on small steps (epoch 1 starts at the full rate).
 */
export function learningRateAt(
  hyper: Pick<Hyper, 'learningRate' | 'schedule' | 'stepSize' | 'gamma' | 'epochs'>,
  epoch: number,
  progress = 0
): number {
  const done = epoch - 1
  switch (hyper.schedule) {
    case 'none':
      return hyper.learningRate
    case 'step':
      return hyper.learningRate * hyper.gamma ** Math.floor(done / hyper.stepSize)
    case 'cosine':
      return (hyper.learningRate * (1 + Math.cos((Math.PI * (done + progress)) / hyper.epochs))) / 2
  }
}

/** Whether the schedule changes the rate within an epoch (between batches), not only between epochs. */
export function changesEveryBatch(schedule: Schedule): boolean {
  return schedule === 'cosine'
}
export type Hyper = z.infer<typeof hyperSchema>
export type HyperInput = z.input<typeof hyperSchema>

/** The hyperparameters a new run starts with. */
export const DEFAULT_HYPER: Hyper = hyperSchema.parse({})

/** Why the defaults are what they are, in a learner's words (the Train form's hint, the README). */
export const DEFAULTS_WHY =
  'Defaults, measured: Adam at 0.003, batch 64 (split across two CPU cores), 6 epochs with the ' +
  'rate falling along a cosine after every batch, and pixels standardized with the training ' +
  "images' mean and std. LeNet reaches about 98 % on MNIST in a one-epoch run and about 99.1 % " +
  'after six, in under a minute of training on a 2-core laptop.'
