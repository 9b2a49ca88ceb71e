import { computed, ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type { RunRecord } from '../../../shared/contract/types'
import { MNIST_SIZE_PX } from '../../../shared/inspect/preprocess'
import { useWorkbench } from '../api/workbench'
import { useAlertsStore } from './alerts'

/** A run has a model to look inside once it saved at least one epoch and is not training. */
const inspectable = (r: RunRecord): boolean =>
  r.epochsDone > 0 && (r.status === 'completed' || r.status === 'stopped')

/** Which trained run the Inside view looks at, and the learner's latest drawing. */
export const useInsideStore = defineStore('inside', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const runs = shallowRef<RunRecord[]>([])
  const selectedId = ref<string | null>(null)
  const loaded = ref(false)
  /** The drawing as the network sees it: 28 × 28 values in [0, 1], or null before any stroke. */
  const drawing = shallowRef<number[] | null>(null)
  let unsubscribe: (() => void) | null = null
  /** A test image another part asked the feature-map view to open (seq tells repeats apart). */
  const openRequest = ref<{ index: number; seq: number } | null>(null)

  const run = computed(() => runs.value.find((r) => r.id === selectedId.value) ?? null)
  /** The drawing pad makes 1 × 28 × 28 grayscale images; other models cannot take them. */
  const takesDrawing = computed(() => {
    const i = run.value?.spec.input
    return !!i && i.channels === 1 && i.height === MNIST_SIZE_PX && i.width === MNIST_SIZE_PX
  })

  async function refresh(): Promise<void> {
    try {
      runs.value = (await api.runs.list()).filter(inspectable)
      loaded.value = true
      if (!runs.value.some((r) => r.id === selectedId.value)) selectedId.value = runs.value[0]?.id ?? null
    } catch (err) {
      alerts.report(err, 'Could not list the trained runs')
    }
  }

  /** Lists runs now and again whenever a run finishes, newest first selected. */
  function init(): void {
    void refresh()
    unsubscribe ??= api.training.onStatus((e) => {
      if (e.status === 'completed' || e.status === 'stopped') {
        selectedId.value = null
        void refresh()
      }
    })
  }

  /** Shows test image `index` of run `runId` in the feature-map view. */
  function openTestImage(runId: string, index: number): void {
    if (runs.value.some((r) => r.id === runId)) selectedId.value = runId
    openRequest.value = { index, seq: (openRequest.value?.seq ?? 0) + 1 }
  }

  function dispose(): void {
    unsubscribe?.()
    unsubscribe = null
  }

  return { runs, selectedId, run, loaded, drawing, takesDrawing, openRequest, refresh, init, openTestImage, dispose }
})
