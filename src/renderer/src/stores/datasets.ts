import { computed, ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type { DatasetInfo } from '../../../shared/contract/types'
import { useWorkbench } from '../api/workbench'
import { useAlertsStore } from './alerts'

const DEFAULT_DATASET = 'mnist'

/** Why a dataset cannot be picked, in words a learner can act on; null when it can. */
export function unavailableReason(d: DatasetInfo): string | null {
  if (d.available) return null
  if (d.source === 'bundled') return 'missing from this installation; reinstall the app'
  return 'not downloaded or imported yet; add it in the Data tab'
}

/** The datasets the app knows and the one the learner picked. */
export const useDatasetsStore = defineStore('datasets', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const list = shallowRef<DatasetInfo[]>([])
  const selectedName = ref('')
  const loading = ref(false)

  const selected = computed(() => list.value.find((d) => d.name === selectedName.value) ?? null)

  async function load(): Promise<void> {
    loading.value = true
    try {
      list.value = await api.datasets.list()
      if (!selected.value?.available) {
        const usable = list.value.filter((d) => d.available)
        const preferred = usable.find((d) => d.name === DEFAULT_DATASET) ?? usable[0]
        selectedName.value = preferred?.name ?? ''
      }
    } catch (err) {
      alerts.report(err, 'Could not list the datasets')
    } finally {
      loading.value = false
    }
  }

  return { list, selectedName, selected, loading, load }
})
