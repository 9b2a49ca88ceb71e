import { computed, reactive, watch } from 'vue'
import { defineStore } from 'pinia'
import {
  DEFAULT_HYPER,
  hyperSchema,
  type BackendChoice,
  type Hyper,
  type Normalization,
  type OptimizerName,
  type Schedule
} from '../../../shared/hyper'
import { recall, remember, restoreInto, SETTINGS_KEY } from './remembered'

/** The form's fields; numbers are '' while an input is empty. */
export interface HyperDraft {
  optimizer: OptimizerName
  learningRate: number | ''
  batchSize: number | ''
  epochs: number | ''
  /** Optional: '' trains on every training image. */
  limit: number | ''
  /** The validation split as a percentage, as the learner types it. */
  validationPercent: number | ''
  backend: BackendChoice
  normalization: Normalization
  /** Stratified subset and validation split: every class in proportion. */
  stratified: boolean
  momentum: number | ''
  beta1: number | ''
  beta2: number | ''
  rho: number | ''
  weightDecay: number | ''
  schedule: Schedule
  stepSize: number | ''
  gamma: number | ''
  /** Patience in epochs; 0 is off. */
  earlyStopping: number | ''
}
export type HyperField = keyof HyperDraft

/** What to do about an invalid field; the schema decides validity, these words explain it. */
const HINTS: Record<HyperField, string> = {
  optimizer: 'Choose one of the listed optimizers.',
  learningRate: 'Use a learning rate above 0 and at most 10; 0.001 is a good start for Adam.',
  batchSize: 'Use a whole number from 1 to 4,096.',
  epochs: 'Use a whole number from 1 to 1,000.',
  limit: 'Leave it empty to use every training image, or enter a whole number of at least 1.',
  validationPercent: 'Use a percentage from 0 to 90.',
  backend: 'Choose one of the listed backends.',
  normalization: 'Choose one of the listed normalizations.',
  stratified: 'Tick or untick the box.',
  momentum: 'Use a number from 0 to 0.999; 0.9 is usual.',
  beta1: 'Use a number from 0 to 0.9999; 0.9 is usual.',
  beta2: 'Use a number from 0 to 0.99999; 0.999 is usual.',
  rho: 'Use a number from 0 to 0.9999; 0.99 is usual.',
  weightDecay: 'Use a number from 0 (off) to 1; 0.0001 to 0.001 is usual.',
  schedule: 'Choose one of the listed schedules.',
  stepSize: 'Use a whole number of epochs from 1 to 1,000.',
  gamma: 'Use a factor above 0 and at most 1, such as 0.1.',
  earlyStopping: 'Use a whole number of epochs from 0 (off) to 1,000.'
}

const FIELD_OF_KEY: Partial<Record<keyof Hyper, HyperField>> = {
  optimizer: 'optimizer',
  learningRate: 'learningRate',
  batchSize: 'batchSize',
  epochs: 'epochs',
  limit: 'limit',
  validationSplit: 'validationPercent',
  backend: 'backend',
  normalization: 'normalization',
  subset: 'stratified',
  momentum: 'momentum',
  beta1: 'beta1',
  beta2: 'beta2',
  rho: 'rho',
  weightDecay: 'weightDecay',
  schedule: 'schedule',
  stepSize: 'stepSize',
  gamma: 'gamma',
  earlyStopping: 'earlyStopping'
}

const REQUIRED: HyperField[] = [
  'learningRate',
  'batchSize',
  'epochs',
  'validationPercent',
  'momentum',
  'beta1',
  'beta2',
  'rho',
  'weightDecay',
  'stepSize',
  'gamma',
  'earlyStopping'
]

/** Human names for fields, used when listing what blocks training. */
export const FIELD_NAMES: Record<HyperField, string> = {
  optimizer: 'optimizer',
  learningRate: 'learning rate',
  batchSize: 'batch size',
  epochs: 'epochs',
  limit: 'training subset size',
  validationPercent: 'validation split',
  backend: 'backend',
  normalization: 'normalization',
  stratified: 'stratified subset',
  momentum: 'momentum',
  beta1: 'Adam beta1',
  beta2: 'Adam beta2',
  rho: 'RMSprop rho',
  weightDecay: 'weight decay',
  schedule: 'learning-rate schedule',
  stepSize: 'step size',
  gamma: 'gamma',
  earlyStopping: 'early stopping'
}

function num(v: number | ''): number | undefined {
  return v === '' ? undefined : v
}

/** The hyperparameter form, validated with the contract's own schema. */
export const useHyperStore = defineStore('hyper', () => {
  const draft = reactive<HyperDraft>({
    optimizer: DEFAULT_HYPER.optimizer,
    learningRate: DEFAULT_HYPER.learningRate,
    batchSize: DEFAULT_HYPER.batchSize,
    epochs: DEFAULT_HYPER.epochs,
    limit: DEFAULT_HYPER.limit ?? '',
    validationPercent: Math.round(DEFAULT_HYPER.validationSplit * 100),
    backend: DEFAULT_HYPER.backend,
    normalization: DEFAULT_HYPER.normalization,
    stratified: DEFAULT_HYPER.subset === 'stratified',
    momentum: DEFAULT_HYPER.momentum,
    beta1: DEFAULT_HYPER.beta1,
    beta2: DEFAULT_HYPER.beta2,
    rho: DEFAULT_HYPER.rho,
    weightDecay: DEFAULT_HYPER.weightDecay,
    schedule: DEFAULT_HYPER.schedule,
    stepSize: DEFAULT_HYPER.stepSize,
    gamma: DEFAULT_HYPER.gamma,
    earlyStopping: DEFAULT_HYPER.earlyStopping
  })

  // The learner's settings survive a reload.
  restoreInto(draft, recall(SETTINGS_KEY))
  watch(draft, () => remember(SETTINGS_KEY, { ...draft }), { deep: true })

  const validation = computed(() => {
    const errors: Partial<Record<HyperField, string>> = {}
    for (const field of REQUIRED) {
      if (draft[field] === '') errors[field] = `Enter a value. ${HINTS[field]}`
    }
    const vp = num(draft.validationPercent)
    const parsed = hyperSchema.safeParse({
      optimizer: draft.optimizer,
      learningRate: num(draft.learningRate),
      batchSize: num(draft.batchSize),
      epochs: num(draft.epochs),
      limit: num(draft.limit),
      validationSplit: vp === undefined ? undefined : vp / 100,
      seed: DEFAULT_HYPER.seed,
      backend: draft.backend,
      normalization: draft.normalization,
      subset: draft.stratified ? 'stratified' : 'first',
      momentum: num(draft.momentum),
      beta1: num(draft.beta1),
      beta2: num(draft.beta2),
      rho: num(draft.rho),
      weightDecay: num(draft.weightDecay),
      schedule: draft.schedule,
      stepSize: num(draft.stepSize),
      gamma: num(draft.gamma),
      earlyStopping: num(draft.earlyStopping)
    })
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = FIELD_OF_KEY[issue.path[0] as keyof Hyper]
        if (field && !errors[field]) errors[field] = HINTS[field]
      }
    }
    const valid = parsed.success && Object.keys(errors).length === 0
    return { errors, hyper: valid ? parsed.data : null }
  })

  const errors = computed(() => validation.value.errors)
  /** The parsed hyperparameters, or null while any field is invalid. */
  const hyper = computed<Hyper | null>(() => validation.value.hyper)

  return { draft, errors, hyper }
})
