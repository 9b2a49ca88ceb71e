import { computed, reactive } from 'vue'
import { defineStore } from 'pinia'
import {
  DEFAULT_HYPER,
  hyperSchema,
  type BackendChoice,
  type Hyper,
  type Normalization,
  type OptimizerName
} from '../../../shared/hyper'

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
  stratified: 'Tick or untick the box.'
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
  subset: 'stratified'
}

const REQUIRED: HyperField[] = ['learningRate', 'batchSize', 'epochs', 'validationPercent']

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
  stratified: 'stratified subset'
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
    stratified: DEFAULT_HYPER.subset === 'stratified'
  })

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
      subset: draft.stratified ? 'stratified' : 'first'
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
