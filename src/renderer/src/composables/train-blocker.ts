import { computed, type ComputedRef } from 'vue'
import { numClassesOf } from '../../../shared/model/shape-inference'
import { useMemoryCheck } from './memory-check'
import { unavailableReason, useDatasetsStore } from '../stores/datasets'
import { FIELD_NAMES, useHyperStore, type HyperField } from '../stores/hyper'
import { useModelStore } from '../stores/model'
import { useTrainingStore } from '../stores/training'

/** Why Train is disabled, in words the learner can act on; null when it is enabled. */
export function useTrainBlocker(): ComputedRef<string | null> {
  const datasets = useDatasetsStore()
  const model = useModelStore()
  const hyper = useHyperStore()
  const training = useTrainingStore()
  const memory = useMemoryCheck()

  return computed<string | null>(() => {
    if (training.active) return null
    const dataset = datasets.selected
    if (!dataset) return datasets.loading ? 'Loading the datasets…' : 'Choose a dataset first.'
    const reason = unavailableReason(dataset)
    if (reason) return `${dataset.title} is ${reason}.`
    const summary = model.summary
    if (!model.spec || !summary) {
      return model.loading ? 'Loading the presets…' : 'Choose an architecture first.'
    }
    if (model.spec.layers.length === 0) {
      return 'The model has no layers yet: add some in the Model tab, or pick an architecture.'
    }
    const first = summary.errors[0]
    if (first) {
      const where = first.index < 0 ? 'the input' : `layer ${first.index + 1}`
      return `Fix the model first: ${where}: ${first.message.replace(/\.$/, '')}.`
    }
    const classes = numClassesOf(summary)
    if (classes !== null && classes !== dataset.classes.length) {
      return (
        `The last layer gives ${classes} scores, but ${dataset.title} has ` +
        `${dataset.classes.length} classes: give it ${dataset.classes.length} units.`
      )
    }
    const invalid = Object.keys(hyper.errors) as HyperField[]
    if (invalid.length > 0) {
      return `Fix the ${invalid.map((f) => FIELD_NAMES[f]).join(', ')} in the training settings.`
    }
    const verdict = memory.value
    if (verdict && !verdict.ok) return verdict.message
    return null
  })
}
