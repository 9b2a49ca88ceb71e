import { computed, reactive, watch } from 'vue'
import { defineStore } from 'pinia'
import { z } from 'zod'
import {
  DEFAULT_HYPER,
  HYPER_FIELDS,
  hyperSchema,
  innerSchema,
  type Hyper
} from '../../../shared/hyper'
import { recall, remember, restoreInto, SETTINGS_KEY } from './remembered'

// The form's fields come from HYPER_FIELDS. Two are shown differently from how they are stored:
// the validation split as a percentage, and the subset as a "stratified" checkbox; the seed is
// not in the form.
type FormKey = Exclude<keyof Hyper, 'seed'>
type DraftKey<K extends FormKey> = K extends 'validationSplit'
  ? 'validationPercent'
  : K extends 'subset'
    ? 'stratified'
    : K
type DraftValue<K extends FormKey> = K extends 'subset'
  ? boolean
  : NonNullable<Hyper[K]> extends number
    ? number | ''
    : Hyper[K]

/** The form's fields; numbers are '' while an input is empty ('' in limit trains on every image). */
export type HyperDraft = { [K in FormKey as DraftKey<K>]: DraftValue<K> }
export type HyperField = keyof HyperDraft

const FORM_KEYS = (Object.keys(HYPER_FIELDS) as Array<keyof Hyper>).filter(
  (k): k is FormKey => k !== 'seed'
)
const DRAFT_KEY: Record<FormKey, HyperField> = Object.fromEntries(
  FORM_KEYS.map((k) => [k, k === 'validationSplit' ? 'validationPercent' : k === 'subset' ? 'stratified' : k])
) as Record<FormKey, HyperField>

const isNumberField = (k: FormKey): boolean => innerSchema(HYPER_FIELDS[k].schema) instanceof z.ZodNumber

/** What to do about an invalid field; the schema decides validity, these words explain it. */
const HINTS = Object.fromEntries(FORM_KEYS.map((k) => [DRAFT_KEY[k], HYPER_FIELDS[k].hint])) as Record<HyperField, string>

/** Number fields that must hold a value (an optional one, like limit, may stay empty). */
const REQUIRED: HyperField[] = FORM_KEYS.filter(
  (k) => isNumberField(k) && HYPER_FIELDS[k].schema.safeParse(undefined).data !== undefined
).map((k) => DRAFT_KEY[k])

/** Human names for fields, used when listing what blocks training. */
export const FIELD_NAMES = Object.fromEntries(
  FORM_KEYS.map((k) => [DRAFT_KEY[k], HYPER_FIELDS[k].name])
) as Record<HyperField, string>

/** A stored value as the form shows it. */
function toDraft(k: FormKey, value: unknown): unknown {
  if (k === 'validationSplit') return Math.round((value as number) * 100)
  if (k === 'subset') return value === 'stratified'
  return value ?? ''
}

/** A form value as the schema takes it (undefined for an empty number). */
function fromDraft(k: FormKey, value: unknown): unknown {
  if (value === '') return undefined
  if (k === 'validationSplit') return (value as number) / 100
  if (k === 'subset') return value ? 'stratified' : 'first'
  return value
}

/** The hyperparameter form, validated with the contract's own schema. */
export const useHyperStore = defineStore('hyper', () => {
  const draft = reactive(
    Object.fromEntries(FORM_KEYS.map((k) => [DRAFT_KEY[k], toDraft(k, DEFAULT_HYPER[k])])) as HyperDraft
  )

  // The learner's settings survive a reload.
  restoreInto(draft, recall(SETTINGS_KEY))
  watch(draft, () => remember(SETTINGS_KEY, { ...draft }), { deep: true })

  const validation = computed(() => {
    const errors: Partial<Record<HyperField, string>> = {}
    for (const field of REQUIRED) {
      if (draft[field] === '') errors[field] = `Enter a value. ${HINTS[field]}`
    }
    const parsed = hyperSchema.safeParse({
      ...Object.fromEntries(FORM_KEYS.map((k) => [k, fromDraft(k, draft[DRAFT_KEY[k]])])),
      seed: DEFAULT_HYPER.seed
    })
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = DRAFT_KEY[issue.path[0] as FormKey]
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
