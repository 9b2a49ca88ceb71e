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

/** The network to train: a preset, with its input shaped like the chosen dataset. */
export const useModelStore = defineStore('model', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const datasets = useDatasetsStore()
  const presets = shallowRef<PresetInfo[]>([])
  const presetId = ref('')
  const loading = ref(false)

  const preset = computed(() => presets.value.find((p) => p.id === presetId.value) ?? null)
  const spec = computed<ModelSpec | null>(() => {
    const p = preset.value
    if (!p) return null
    const d = datasets.selected
    if (!d) return p.spec
    const [channels, height, width] = d.shape
    return { ...p.spec, input: { channels, height, width } }
  })
  const summary = computed<ModelSummary | null>(() => (spec.value ? summarize(spec.value) : null))

  async function load(): Promise<void> {
    loading.value = true
    try {
      presets.value = await api.presets.list()
      if (!preset.value) {
        const preferred = presets.value.find((p) => p.id === DEFAULT_PRESET) ?? presets.value[0]
        presetId.value = preferred?.id ?? ''
      }
    } catch (err) {
      alerts.report(err, 'Could not list the model presets')
    } finally {
      loading.value = false
    }
  }

  return { presets, presetId, preset, spec, summary, loading, load }
})
