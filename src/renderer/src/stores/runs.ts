import { computed, ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type { EpochMetrics, RunRecord } from '../../../shared/contract/types'
import { MAX_IMAGES_PER_REQUEST, type Evaluation } from '../../../shared/contract/runs'
import type { ErrorInfo } from '../../../shared/contract/errors'
import { toErrorInfo } from '../../../shared/contract/errors'
import { useWorkbench } from '../api/workbench'
import { useAlertsStore } from './alerts'
import { decodeBase64 } from '../components/data/pixels'

export type RunSortKey = 'date' | 'accuracy' | 'params'

/** Test images by index: raw NHWC bytes and the shape [channels, height, width]. */
export interface TestImages {
  shape: [number, number, number]
  pixels: Map<number, Uint8Array>
}

/** How a run is called in lists, legends and tables: its name, or its model and start time. */
export function runLabel(r: RunRecord): string {
  if (r.name) return r.name
  const d = new Date(r.createdAt)
  const time = Number.isNaN(d.getTime())
    ? r.id
    : d.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' })
  return `${r.spec.name}, ${time}`
}

/** A run's test accuracy for sorting; runs without one sort last. */
const accuracyOf = (r: RunRecord): number => r.test?.testAccuracy ?? -1

/** Kept runs: the list, its order, curation (name, notes, delete with undo), comparison and evaluation. */
export const useRunsStore = defineStore('runs', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()

  const records = shallowRef<RunRecord[]>([])
  const loaded = ref(false)
  const sortKey = ref<RunSortKey>('date')
  const descending = ref(true)
  /** Runs ticked for comparison, in the order they were ticked. */
  const compareIds = ref<string[]>([])
  const metrics = shallowRef<Record<string, EpochMetrics[]>>({})
  /** The last deleted run, until it is restored or another one is deleted. */
  const lastDeleted = shallowRef<RunRecord | null>(null)
  const evaluationRunId = ref<string | null>(null)
  const evaluation = shallowRef<Evaluation | null>(null)
  const evaluationLoading = ref(false)
  const evaluationError = shallowRef<ErrorInfo | null>(null)
  /** Test images scored so far while an evaluation runs. */
  const evaluationProgress = shallowRef<{ done: number; total: number } | null>(null)
  let unsubscribers: Array<() => void> = []

  const sorted = computed(() => {
    const sign = descending.value ? -1 : 1
    const key = sortKey.value
    return [...records.value].sort((a, b) => {
      const d =
        key === 'date'
          ? a.createdAt.localeCompare(b.createdAt)
          : key === 'accuracy'
            ? accuracyOf(a) - accuracyOf(b)
            : a.params - b.params
      return sign * d || b.createdAt.localeCompare(a.createdAt)
    })
  })
  const compared = computed(() =>
    compareIds.value.flatMap((id) => records.value.filter((r) => r.id === id))
  )

  function sortBy(key: RunSortKey): void {
    if (sortKey.value === key) descending.value = !descending.value
    else {
      sortKey.value = key
      descending.value = true
    }
  }

  function replace(record: RunRecord): void {
    records.value = records.value.map((r) => (r.id === record.id ? record : r))
  }

  async function load(): Promise<void> {
    subscribe()
    try {
      records.value = await api.runs.list()
      const ids = new Set(records.value.map((r) => r.id))
      compareIds.value = compareIds.value.filter((id) => ids.has(id))
    } catch (err) {
      alerts.report(err, 'Could not list the runs')
    } finally {
      loaded.value = true
    }
  }

  async function rename(runId: string, name: string): Promise<void> {
    try {
      replace(await api.runs.rename({ runId, name }))
    } catch (err) {
      alerts.report(err, 'Could not rename the run')
    }
  }

  async function saveNotes(runId: string, notes: string): Promise<void> {
    try {
      replace(await api.runs.notes({ runId, notes }))
    } catch (err) {
      alerts.report(err, 'Could not save the notes')
    }
  }

  async function remove(runId: string): Promise<void> {
    const record = records.value.find((r) => r.id === runId) ?? null
    try {
      await api.runs.delete({ runId })
      records.value = records.value.filter((r) => r.id !== runId)
      compareIds.value = compareIds.value.filter((id) => id !== runId)
      if (evaluationRunId.value === runId) closeEvaluation()
      lastDeleted.value = record
    } catch (err) {
      alerts.report(err, 'Could not delete the run')
    }
  }

  async function undoDelete(): Promise<void> {
    const record = lastDeleted.value
    if (!record) return
    try {
      const restored = await api.runs.restore({ runId: record.id })
      lastDeleted.value = null
      records.value = [...records.value.filter((r) => r.id !== restored.id), restored]
    } catch (err) {
      alerts.report(err, 'Could not restore the run')
    }
  }

  async function loadMetrics(runId: string): Promise<void> {
    if (metrics.value[runId]) return
    try {
      const details = await api.runs.get({ runId })
      metrics.value = { ...metrics.value, [runId]: details.metrics }
    } catch (err) {
      alerts.report(err, 'Could not read the run')
    }
  }

  function toggleCompare(runId: string): void {
    if (compareIds.value.includes(runId)) {
      compareIds.value = compareIds.value.filter((id) => id !== runId)
      return
    }
    compareIds.value = [...compareIds.value, runId]
    void loadMetrics(runId)
  }

  async function openEvaluation(runId: string): Promise<void> {
    evaluationRunId.value = runId
    evaluation.value = null
    evaluationError.value = null
    evaluationProgress.value = null
    evaluationLoading.value = true
    try {
      const result = await api.runs.evaluation({ runId })
      if (evaluationRunId.value === runId) evaluation.value = result
    } catch (err) {
      if (evaluationRunId.value === runId) evaluationError.value = toErrorInfo(err)
    } finally {
      if (evaluationRunId.value === runId) evaluationLoading.value = false
    }
  }

  /** Stops the evaluation in progress; the panel then says it was cancelled. */
  async function cancelEvaluation(): Promise<void> {
    const runId = evaluationRunId.value
    if (!runId || !evaluationLoading.value) return
    try {
      await api.runs.cancelEvaluation({ runId })
    } catch (err) {
      alerts.report(err, 'Could not cancel the evaluation')
    }
  }

  function closeEvaluation(): void {
    void cancelEvaluation()
    evaluationRunId.value = null
    evaluation.value = null
    evaluationError.value = null
    evaluationLoading.value = false
  }

  /** Test images of the evaluated dataset, by index (at most MAX_IMAGES_PER_REQUEST). */
  async function testImages(indices: number[]): Promise<TestImages | null> {
    const ev = evaluation.value
    if (!ev || indices.length === 0) return null
    try {
      const reply = await api.datasets.images({
        name: ev.dataset,
        split: 'test',
        indices: indices.slice(0, MAX_IMAGES_PER_REQUEST)
      })
      const bytes = decodeBase64(reply.pixels)
      const [c, h, w] = reply.shape
      const size = c * h * w
      const pixels = new Map<number, Uint8Array>()
      reply.indices.forEach((index, i) => pixels.set(index, bytes.subarray(i * size, (i + 1) * size)))
      return { shape: reply.shape, pixels }
    } catch (err) {
      alerts.report(err, 'Could not load the test images')
      return null
    }
  }

  function subscribe(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      api.training.onStatus((e) => {
        if (e.status !== 'starting' && e.status !== 'running' && e.status !== 'paused') void load()
      }),
      api.runs.onEvaluation((e) => {
        if (e.progress && e.runId === evaluationRunId.value) evaluationProgress.value = e.progress
        if (e.evaluation && e.runId === evaluationRunId.value) {
          evaluation.value = e.evaluation
          evaluationError.value = null
          evaluationLoading.value = false
        }
      })
    ]
  }

  function dispose(): void {
    for (const off of unsubscribers) off()
    unsubscribers = []
  }

  return {
    records,
    loaded,
    sortKey,
    descending,
    sorted,
    compareIds,
    compared,
    metrics,
    lastDeleted,
    evaluationRunId,
    evaluation,
    evaluationLoading,
    evaluationError,
    evaluationProgress,
    sortBy,
    load,
    rename,
    saveNotes,
    remove,
    undoDelete,
    toggleCompare,
    loadMetrics,
    openEvaluation,
    closeEvaluation,
    cancelEvaluation,
    testImages,
    dispose
  }
})
