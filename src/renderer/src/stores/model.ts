import { computed, ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type { PresetInfo } from '../../../shared/contract/types'
import type { ModelSpec } from '../../../shared/model/spec'
import type { ModelSummary } from '../../../shared/model/summary-types'
import { summarizeModel } from '../../../shared/model/shape-inference'
import { useWorkbench } from '../api/workbench'
import { useAlertsStore } from './alerts'
import { useDatasetsStore } from './datasets'

const DEFAULT_PRESET = 'lenet'

function summarize(spec: ModelSpec): ModelSummary {
  try {
    return summarizeModel(spec)
  } catch (err) {
    // A bug in shape inference must not blank the page; show it where the learner looks.
    const message = err instanceof Error ? err.message : String(err)
    return {
      layers: [],
      errors: [{ index: -1, message: `Could not compute the shapes: ${message}` }],
      totalParams: 0,
      trainableParams: 0,
      nonTrainableParams: 0,
      totalMacs: 0,
      outputShape: null
    }
  }
}

/**
 * The network to train: the model being edited (a preset to start with), with its input shaped
 * like the chosen dataset. The editor store changes it; the Train view trains it.
 */
export const useModelStore = defineStore('model', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const datasets = useDatasetsStore()
  const presets = shallowRef<PresetInfo[]>([])
  /** The preset the current model started from; '' for an empty model or a loaded file. */
  const presetId = ref('')
  /** The model as edited, plain JSON (never a reactive proxy); layers may be empty. */
  const current = shallowRef<ModelSpec | null>(null)
  const loading = ref(false)

  const preset = computed(() => presets.value.find((p) => p.id === presetId.value) ?? null)
  const spec = computed<ModelSpec | null>(() => {
    const base = current.value
    if (!base) return null
    const d = datasets.selected
    if (!d) return base
    const [channels, height, width] = d.shape
    return { ...base, input: { channels, height, width } }
  })
  const summary = computed<ModelSummary | null>(() => (spec.value ? summarize(spec.value) : null))

  /** Makes `next` the current model; only the editor store calls this after start-up. */
  function replace(next: ModelSpec | null, fromPreset: string): void {
    current.value = next
    presetId.value = fromPreset
  }

  async function load(): Promise<void> {
    loading.value = true
    try {
      presets.value = await api.presets.list()
      if (!current.value) {
        const preferred = presets.value.find((p) => p.id === DEFAULT_PRESET) ?? presets.value[0]
        if (preferred) replace(structuredClone(preferred.spec), preferred.id)
      }
    } catch (err) {
      alerts.report(err, 'Could not list the model presets')
    } finally {
      loading.value = false
    }
  }

  return { presets, presetId, preset, current, spec, summary, loading, load, replace }
})
