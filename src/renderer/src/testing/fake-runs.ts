import type { WorkbenchApi } from '../../../shared/contract/client'
import type { EpochMetrics, RunRecord } from '../../../shared/contract/types'
import type { Evaluation, EvaluationEvent, Images, ImagesRequest } from '../../../shared/contract/runs'
import { WorkbenchError } from '../../../shared/contract/errors'
import type { RequestOf } from '../../../shared/contract/api'
import { DEFAULT_HYPER } from '../../../shared/hyper'
import { PRESETS } from '../../../shared/model/presets'

const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']

/** A kept run with sensible defaults. */
export function fakeRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'run-a',
    createdAt: '2025-01-02T10:00:00.000Z',
    status: 'completed',
    spec: structuredClone(PRESETS[0].spec),
    dataset: 'mnist',
    hyper: { ...DEFAULT_HYPER, epochs: 2 },
    backend: 'wasm',
    params: 106_154,
    epochsDone: 2,
    test: { testAccuracy: 0.9, testLoss: 0.3, testCount: 100 },
    error: null,
    ...overrides
  }
}

/** Per-epoch metrics that improve a little each epoch. */
export function fakeMetrics(epochs: number, base = 0.8): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 1 - i * 0.1,
    accuracy: base + i * 0.05,
    valLoss: 0.9 - i * 0.1,
    valAccuracy: base + i * 0.04,
    seconds: 3,
    samplesPerSecond: 1000
  }))
}

/**
 * An evaluation of 100 test images, ten of each class: class c is right 9 times and mistaken
 * for class (c + 1) % 10 once (image 10c + 9).
 */
export function fakeEvaluation(runId: string): Evaluation {
  const labels: number[] = []
  const predictions: number[] = []
  for (let c = 0; c < 10; c++) {
    for (let j = 0; j < 10; j++) {
      labels.push(c)
      predictions.push(j === 9 ? (c + 1) % 10 : c)
    }
  }
  const matrix = CLASSES.map((_, t) => CLASSES.map((__, p) => (t === p ? 9 : p === (t + 1) % 10 ? 1 : 0)))
  const misclassified = CLASSES.map((_, c) => ({
    index: c * 10 + 9,
    label: c,
    predicted: (c + 1) % 10,
    confidence: 0.95 - c * 0.05,
    top: [
      { classIndex: (c + 1) % 10, probability: 0.95 - c * 0.05 },
      { classIndex: c, probability: 0.03 + c * 0.05 },
      { classIndex: (c + 2) % 10, probability: 0.02 }
    ]
  }))
  return {
    runId,
    epoch: 2,
    dataset: 'mnist',
    classes: CLASSES,
    testAccuracy: 0.9,
    testLoss: 0.3,
    testCount: 100,
    perClassAccuracy: CLASSES.map(() => 0.9),
    perClassCount: CLASSES.map(() => 10),
    confusionMatrix: matrix,
    labels,
    predictions,
    misclassifiedCount: 10,
    misclassified,
    samples: [0, 9, 21, 55].map((index) => ({
      index,
      label: labels[index],
      predicted: predictions[index],
      confidence: 0.9,
      correct: labels[index] === predictions[index]
    })),
    seconds: 0.5
  }
}

type Listener = (e: EvaluationEvent) => void

/** The runs half of the fake API: kept runs in memory, a trash for undo, recorded requests. */
export class FakeRuns {
  records: RunRecord[] = []
  trash: RunRecord[] = []
  metrics = new Map<string, EpochMetrics[]>()
  readonly imageRequests: ImagesRequest[] = []
  readonly evaluationListeners = new Set<Listener>()
  /** Run ids passed to runs.resume. */
  readonly resumeCalls: string[] = []
  readonly pytorchExports: Array<RequestOf<'runs:exportPytorch'>> = []
  /** When set, runs.evaluation waits for finishEvaluation or a cancel. */
  holdEvaluation = false
  finishEvaluation: (() => void) | null = null
  private cancelPending: (() => void) | null = null

  emitEvaluation(e: EvaluationEvent): void {
    for (const l of this.evaluationListeners) l(e)
  }

  private find(runId: string): RunRecord {
    const r = this.records.find((x) => x.id === runId)
    if (!r) throw new WorkbenchError('NOT_FOUND', `No run ${runId}.`)
    return r
  }

  private patch(runId: string, patch: Partial<RunRecord>): RunRecord {
    const next = { ...this.find(runId), ...patch }
    this.records = this.records.map((r) => (r.id === runId ? next : r))
    return next
  }

  readonly api: WorkbenchApi['runs'] = {
    list: async () => structuredClone(this.records),
    get: async ({ runId }) => ({ record: this.find(runId), metrics: this.metrics.get(runId) ?? [] }),
    rename: async ({ runId, name }) => this.patch(runId, { name }),
    notes: async ({ runId, notes }) => this.patch(runId, { notes }),
    delete: async ({ runId }) => {
      this.trash.push(this.find(runId))
      this.records = this.records.filter((r) => r.id !== runId)
      return { ok: true }
    },
    restore: async ({ runId }) => {
      const r = this.trash.find((x) => x.id === runId)
      if (!r) throw new WorkbenchError('NOT_FOUND', `Run ${runId} is not in the trash.`)
      this.trash = this.trash.filter((x) => x !== r)
      this.records = [...this.records, r]
      return r
    },
    branch: async ({ runId, learningRate }) => {
      const parent = this.find(runId)
      const id = `${runId}-branch`
      this.records = [...this.records, { ...parent, id, status: 'starting', hyper: { ...parent.hyper, learningRate }, branchOf: { runId, epoch: parent.epochsDone } }]
      return { runId: id }
    },
    resume: async ({ runId }) => {
      this.resumeCalls.push(runId)
      this.patch(runId, { status: 'starting' })
      return { runId }
    },
    evaluation: async ({ runId }) => {
      this.find(runId)
      if (this.holdEvaluation) {
        await new Promise<void>((resolve, reject) => {
          this.finishEvaluation = resolve
          this.cancelPending = () => reject(new WorkbenchError('CANCELLED', 'The evaluation was cancelled.'))
        })
      }
      return fakeEvaluation(runId)
    },
    cancelEvaluation: async () => {
      this.cancelPending?.()
      return { ok: true }
    },
    export: async ({ runId }) => {
      this.find(runId)
      return { files: [{ name: 'model.json', base64: btoa('{}') }, { name: 'weights.bin', base64: '' }] }
    },
    exportPytorch: async (request) => {
      if ('runId' in request) this.find(request.runId)
      this.pytorchExports.push(request)
      return { path: `/data/exports/${request.format}-export`, files: ['model.py', 'train.py', 'README.md', 'run.json'] }
    },
    import: async () => {
      const record = { ...this.records[0], id: 'imported-run', name: 'imported' }
      this.records = [...this.records, record]
      return record
    },
    onEvaluation: (listener) => {
      this.evaluationListeners.add(listener)
      return () => {
        this.evaluationListeners.delete(listener)
      }
    }
  }

  /** Grey images whose first pixel is the index, so a test can tell them apart. */
  async images(request: ImagesRequest): Promise<Images> {
    this.imageRequests.push(request)
    const size = 28 * 28
    const bytes = new Uint8Array(request.indices.length * size).fill(128)
    request.indices.forEach((index, i) => (bytes[i * size] = index % 256))
    return {
      shape: [1, 28, 28],
      indices: request.indices,
      labels: request.indices.map((i) => Math.floor(i / 10) % 10),
      pixels: btoa(String.fromCharCode(...bytes))
    }
  }
}
