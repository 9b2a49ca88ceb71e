import { computed, ref, shallowRef } from 'vue'
import { defineStore } from 'pinia'
import type { ErrorInfo } from '../../../shared/contract/errors'
import type {
  EpochEvent,
  ProgressEvent,
  RunStatus,
  RunRecord,
  RunStatusEvent,
  TestMetrics,
  TrainingStart
} from '../../../shared/contract/types'
import type { BackendName, Hyper } from '../../../shared/hyper'
import type { ModelSpec } from '../../../shared/model/spec'
import { toPlain } from '../api/plain'
import { useWorkbench } from '../api/workbench'
import { decimate, Ema, type Point } from '../charts/series'
import { useAlertsStore } from './alerts'
import { useEngineStore } from './engine'
import { LAST_RUN_KEY, recall, remember } from './remembered'

/** Progress events are applied together at most this often: charts redraw ~10 times a second. */
export const PROGRESS_FLUSH_MS = 100
/** Smoothing of the batch loss and accuracy curves (0: none, close to 1: heavy). */
const LOSS_EMA_BETA = 0.9

export type RunPhase = RunStatus | 'idle'

/** One validation measurement on the charts; x in epochs, as the batch curves. */
export interface ValidationPoint {
  x: number
  loss: number
  accuracy: number
  /** True for a mid-epoch check on a sample of the split; false for the full split at an epoch's end. */
  sample: boolean
}

/** Epochs in a row that validation loss must rise (while training loss falls) to warn of overfitting. */
export const OVERFIT_EPOCHS = 2

/** A sign of overfitting: validation loss rose for OVERFIT_EPOCHS epochs while training loss fell. */
export interface OverfitNotice {
  /** The epoch from which validation loss kept rising (its lowest point). */
  fromEpoch: number
  toEpoch: number
}

/** Finds the latest overfitting stretch in per-epoch metrics (sorted by epoch), or null. */
export function detectOverfitting(metrics: readonly EpochEvent[]): OverfitNotice | null {
  if (metrics.length < OVERFIT_EPOCHS + 1) return null
  const tail = metrics.slice(-(OVERFIT_EPOCHS + 1))
  for (let i = 1; i < tail.length; i++) {
    const prev = tail[i - 1]
    const cur = tail[i]
    if (prev.valLoss === null || cur.valLoss === null) return null
    if (!(cur.valLoss > prev.valLoss && cur.loss < prev.loss)) return null
  }
  return { fromEpoch: tail[0].epoch, toEpoch: tail[tail.length - 1].epoch }
}

/** One training run: its status, its live progress and the curves the charts draw. */
export const useTrainingStore = defineStore('training', () => {
  const api = useWorkbench()
  const alerts = useAlertsStore()
  const engine = useEngineStore()

  const runId = ref<string | null>(null)
  const status = ref<RunPhase>('idle')
  const stopping = ref(false)
  const request = shallowRef<TrainingStart | null>(null)
  const progress = shallowRef<ProgressEvent | null>(null)
  const epochs = shallowRef<EpochEvent[]>([])
  // Batch curves: x is the epoch, fractional within it (1.5: half-way through epoch 2).
  const lossRaw = shallowRef<Point[]>([])
  const lossSmoothed = shallowRef<Point[]>([])
  const accuracySmoothed = shallowRef<Point[]>([])
  /** Validation checks inside epochs (long epochs only), on a sample of the split. */
  const midEpochChecks = shallowRef<ValidationPoint[]>([])
  /** Batches trained and batch losses received: the engine samples about ten a second. */
  const batchesTrained = ref(0)
  const batchesSampled = ref(0)
  const test = shallowRef<TestMetrics | null>(null)
  const error = shallowRef<ErrorInfo | null>(null)
  /** Why the run ended early on its own (early stopping). */
  const note = ref<string | null>(null)
  const backend = ref<BackendName | null>(null)
  const params = ref<number | null>(null)
  /** The dashboard shows the last run of an earlier session (restored after a reload). */
  const restored = ref(false)

  let unsubscribers: Array<() => void> = []
  let pending: ProgressEvent[] = []
  let flushTimer: ReturnType<typeof setTimeout> | null = null
  let awaitingRunId = false
  let ema = new Ema(LOSS_EMA_BETA)
  let accuracyEma = new Ema(LOSS_EMA_BETA)
  // The contract does not fix whether epochs count from 0 or 1; an epoch 0 settles it.
  let zeroBasedEpochs = false

  const active = computed(
    () => status.value === 'starting' || status.value === 'running' || status.value === 'paused'
  )
  const pausing = ref(false)

  const epochOffset = (): number => (epochs.value.some((e) => e.epoch === 0) ? 1 : 0)

  const overfitting = computed(() =>
    detectOverfitting([...epochs.value].sort((a, b) => a.epoch - b.epoch))
  )

  const totalEpochs = computed(() => progress.value?.epochs ?? request.value?.hyper.epochs ?? 0)
  /** The epoch in progress, counted from 1 for display. */
  const epoch = computed(() => {
    const p = progress.value
    // No batch seen yet (a restored or resumed run): the epochs it has finished.
    if (!p) return epochs.value.reduce((n, e) => Math.max(n, e.epoch + epochOffset()), 0)
    return Math.min(p.epoch + (zeroBasedEpochs ? 1 : 0), p.epochs)
  })
  /** Overall progress in percent, 0 to 100. */
  const percent = computed(() => {
    if (status.value === 'completed') return 100
    const p = progress.value
    if (!p && totalEpochs.value > 0) return Math.min(100, (epoch.value / totalEpochs.value) * 100)
    if (!p || p.epochs <= 0 || p.batchesPerEpoch <= 0) return 0
    const done = (epoch.value - 1) * p.batchesPerEpoch + Math.min(p.batch, p.batchesPerEpoch)
    return Math.max(0, Math.min(100, (done / (p.epochs * p.batchesPerEpoch)) * 100))
  })

  function accepts(id: string): boolean {
    if (runId.value === null && awaitingRunId) {
      runId.value = id
      return true
    }
    return id === runId.value
  }

  function stepOf(p: ProgressEvent): number {
    const epochIndex = zeroBasedEpochs ? p.epoch : p.epoch - 1
    return epochIndex * p.batchesPerEpoch + p.batch
  }

  /** Where a batch falls in epochs, counted from the start: batch 30 of 60 in epoch 2 is 1.5. */
  function epochPosition(p: ProgressEvent): number {
    return p.batchesPerEpoch > 0 ? stepOf(p) / p.batchesPerEpoch : 0
  }

  /** Validation points for the charts: mid-epoch checks and every finished epoch, by position. */
  const validationPoints = computed<ValidationPoint[]>(() => {
    const offset = zeroBasedEpochs || epochs.value.some((e) => e.epoch === 0) ? 1 : 0
    const ends = epochs.value.flatMap((e) =>
      e.valLoss === null || e.valAccuracy === null
        ? []
        : [{ x: e.epoch + offset, loss: e.valLoss, accuracy: e.valAccuracy, sample: false }]
    )
    return [...midEpochChecks.value, ...ends].sort((a, b) => a.x - b.x)
  })

  function flush(): void {
    if (flushTimer !== null) {
      clearTimeout(flushTimer)
      flushTimer = null
    }
    if (pending.length === 0) return
    const batch = pending
    pending = []
    // New arrays each flush: watchers compare by identity, and charts get immutable snapshots.
    const raw = [...lossRaw.value]
    const smooth = [...lossSmoothed.value]
    const accuracy = [...accuracySmoothed.value]
    const checks: ValidationPoint[] = []
    for (const p of batch) {
      const x = epochPosition(p)
      raw.push({ x, y: p.loss })
      smooth.push({ x, y: ema.push(p.loss) })
      accuracy.push({ x, y: accuracyEma.push(p.accuracy) })
      if (p.valLoss !== undefined && p.valAccuracy !== undefined && p.batch < p.batchesPerEpoch) {
        checks.push({ x, loss: p.valLoss, accuracy: p.valAccuracy, sample: true })
      }
    }
    lossRaw.value = decimate(raw)
    lossSmoothed.value = decimate(smooth)
    accuracySmoothed.value = decimate(accuracy)
    if (checks.length > 0) midEpochChecks.value = [...midEpochChecks.value, ...checks]
    batchesSampled.value += batch.length
    batchesTrained.value = Math.max(batchesTrained.value, stepOf(batch[batch.length - 1]))
    progress.value = batch[batch.length - 1]
    if (status.value === 'starting') status.value = 'running'
  }

  function onProgress(e: ProgressEvent): void {
    if (!accepts(e.runId)) return
    if (e.epoch === 0) zeroBasedEpochs = true
    pending.push(e)
    flushTimer ??= setTimeout(flush, PROGRESS_FLUSH_MS)
  }

  function onEpoch(e: EpochEvent): void {
    if (!accepts(e.runId)) return
    if (e.epoch === 0) zeroBasedEpochs = true
    flush()
    epochs.value = [...epochs.value.filter((m) => m.epoch !== e.epoch), e]
  }

  function onStatus(e: RunStatusEvent): void {
    if (!accepts(e.runId)) return
    flush()
    status.value = e.status
    if (e.backend) {
      backend.value = e.backend
      engine.noteBackend(e.backend)
    }
    if (e.params !== undefined) params.value = e.params
    if (e.test) test.value = e.test
    if (e.error) error.value = e.error
    if (e.note) note.value = e.note
    if (!active.value && runId.value) remember(LAST_RUN_KEY, { runId: runId.value })
    if (!active.value) stopping.value = false
    pausing.value = false
    if (e.status === 'failed' && e.error?.code === 'ENGINE_CRASHED') {
      engine.noteCrash(e.error.message)
    }
  }

  function subscribe(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      api.training.onProgress(onProgress),
      api.training.onEpoch(onEpoch),
      api.training.onStatus(onStatus)
    ]
  }

  function reset(): void {
    if (flushTimer !== null) clearTimeout(flushTimer)
    flushTimer = null
    pending = []
    ema = new Ema(LOSS_EMA_BETA)
    accuracyEma = new Ema(LOSS_EMA_BETA)
    zeroBasedEpochs = false
    accuracySmoothed.value = []
    midEpochChecks.value = []
    batchesTrained.value = 0
    batchesSampled.value = 0
    runId.value = null
    progress.value = null
    epochs.value = []
    lossRaw.value = []
    lossSmoothed.value = []
    test.value = null
    error.value = null
    note.value = null
    backend.value = null
    params.value = null
    restored.value = false
    stopping.value = false
  }

  /** Training curves, or where a run has no batch history (restored), its epoch means. */
  const trainingLossLine = computed<Point[]>(() =>
    lossSmoothed.value.length > 0
      ? lossSmoothed.value
      : epochs.value.map((e) => ({ x: e.epoch + epochOffset(), y: e.loss }))
  )
  const trainingAccuracyLine = computed<Point[]>(() =>
    accuracySmoothed.value.length > 0
      ? accuracySmoothed.value
      : epochs.value.map((e) => ({ x: e.epoch + epochOffset(), y: e.accuracy }))
  )

  /**
   * Shows the last finished run of an earlier session, so a reload does not lose the
   * dashboard. Does nothing while a run is active or when that run is gone.
   */
  async function restoreLast(): Promise<void> {
    const saved = recall(LAST_RUN_KEY)
    const id = typeof saved?.runId === 'string' ? saved.runId : null
    if (!id || active.value || runId.value !== null) return
    try {
      const { record, metrics } = await api.runs.get({ runId: id })
      if (active.value || runId.value !== null) return
      request.value = toPlain<TrainingStart>({ spec: record.spec, dataset: record.dataset, hyper: record.hyper })
      runId.value = record.id
      status.value = record.status
      epochs.value = metrics.map((m) => ({ ...m, runId: record.id }))
      test.value = record.test
      error.value = record.error
      backend.value = record.backend
      params.value = record.params
      restored.value = true
    } catch {
      // The run was deleted or its folder moved: start clean, as before.
    }
  }

  /** Starts a run; listens before asking, so no early event is missed. */
  async function start(spec: ModelSpec, dataset: string, hyper: Hyper): Promise<void> {
    if (active.value) return
    subscribe()
    reset()
    const payload = toPlain<TrainingStart>({ spec, dataset, hyper })
    request.value = payload
    status.value = 'starting'
    awaitingRunId = true
    try {
      const { runId: id } = await api.training.start(payload)
      runId.value = id
    } catch (err) {
      status.value = 'idle'
      alerts.report(err, 'Training did not start')
    } finally {
      awaitingRunId = false
    }
  }

  /**
   * Goes on with a stopped or interrupted run from its last checkpoint; the dashboard follows it,
   * starting from the epochs it already has.
   */
  async function resumeRun(record: RunRecord): Promise<boolean> {
    if (active.value) {
      alerts.report(new Error('A run is training. Stop it before resuming another.'), 'Could not resume the run')
      return false
    }
    subscribe()
    reset()
    request.value = toPlain<TrainingStart>({ spec: record.spec, dataset: record.dataset, hyper: record.hyper })
    runId.value = record.id
    status.value = 'starting'
    try {
      const details = await api.runs.get({ runId: record.id })
      const done = record.epochsDone
      epochs.value = details.metrics.filter((m) => m.epoch <= done).map((m) => ({ ...m, runId: record.id }))
      await api.runs.resume({ runId: record.id })
      return true
    } catch (err) {
      status.value = 'idle'
      runId.value = null
      alerts.report(err, 'Could not resume the run')
      return false
    }
  }

  /** Branches a run from its last checkpoint with a new learning rate; the dashboard follows the branch. */
  async function branchRun(record: RunRecord, learningRate: number, epochCount: number): Promise<boolean> {
    if (active.value) return false
    try {
      const details = await api.runs.get({ runId: record.id })
      subscribe()
      reset()
      request.value = toPlain<TrainingStart>({ spec: record.spec, dataset: record.dataset, hyper: { ...record.hyper, learningRate, epochs: epochCount } })
      status.value = 'starting'
      awaitingRunId = true
      const done = record.epochsDone
      const { runId: id } = await api.runs.branch({ runId: record.id, learningRate, epochs: epochCount })
      runId.value = id
      epochs.value = details.metrics.filter((m) => m.epoch <= done).map((m) => ({ ...m, runId: id }))
      return true
    } catch (err) {
      status.value = 'idle'
      alerts.report(err, 'Could not branch the run')
      return false
    } finally {
      awaitingRunId = false
    }
  }

  async function stop(): Promise<void> {
    const id = runId.value
    if (!id || !active.value) return
    stopping.value = true
    try {
      await api.training.stop({ runId: id })
    } catch (err) {
      stopping.value = false
      alerts.report(err, 'Could not stop the run')
    }
  }

  /** Pauses the running run, or resumes it when it is paused. */
  async function togglePause(): Promise<void> {
    const id = runId.value
    if (!id || (status.value !== 'running' && status.value !== 'paused')) return
    const resume = status.value === 'paused'
    pausing.value = true
    try {
      await (resume ? api.training.resume({ runId: id }) : api.training.pause({ runId: id }))
    } catch (err) {
      alerts.report(err, resume ? 'Could not resume the run' : 'Could not pause the run')
    } finally {
      pausing.value = false
    }
  }

  function dispose(): void {
    for (const off of unsubscribers) off()
    unsubscribers = []
    if (flushTimer !== null) clearTimeout(flushTimer)
    flushTimer = null
    pending = []
  }

  return {
    runId,
    status,
    stopping,
    request,
    progress,
    epochs,
    lossRaw,
    lossSmoothed,
    accuracySmoothed,
    validationPoints,
    trainingLossLine,
    trainingAccuracyLine,
    restored,
    restoreLast,
    batchesTrained,
    batchesSampled,
    test,
    error,
    note,
    backend,
    params,
    active,
    totalEpochs,
    epoch,
    percent,
    start,
    stop,
    resumeRun,
    branchRun,
    overfitting,
    pausing,
    togglePause,
    dispose
  }
})
