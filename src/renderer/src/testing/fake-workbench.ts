import type { WorkbenchApi } from '../../../shared/contract/client'
import type {
  DatasetInfo,
  EngineStatus,
  EpochEvent,
  PresetInfo,
  ProgressEvent,
  RunStatusEvent,
  TrainingStartInput
} from '../../../shared/contract/types'
import { PRESETS } from '../../../shared/model/presets'
import { FakeRuns } from './fake-runs'
import { FakeInspect } from './fake-inspect'
import type { DatasetProgress } from '../../../shared/contract/datasets'
import { fakeInspection, fakeSamples, fakeStats } from './fake-datasets'

type Listener<T> = (e: T) => void

/** A channel of events a test emits by hand. */
class Emitter<T> {
  readonly listeners = new Set<Listener<T>>()
  on = (listener: Listener<T>): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }
  emit(e: T): void {
    for (const l of this.listeners) l(e)
  }
}

export const FAKE_DATASETS: DatasetInfo[] = [
  {
    name: 'mnist',
    title: 'MNIST digits',
    shape: [1, 28, 28],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    available: true,
    source: 'bundled',
    trainCount: 60_000,
    testCount: 10_000
  },
  {
    name: 'cifar10',
    title: 'CIFAR-10',
    shape: [3, 32, 32],
    classes: ['airplane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    available: false,
    source: 'downloaded',
    trainCount: 50_000,
    testCount: 10_000
  }
]

/** Presets as the app serves them: the shared definitions, plain JSON. */
export const FAKE_PRESETS: PresetInfo[] = PRESETS.map((p) => structuredClone({ ...p }))

/**
 * A WorkbenchApi whose replies a test sets and whose events a test emits. It records every
 * request, so tests can check what the renderer sent.
 */
export class FakeWorkbench implements WorkbenchApi {
  readonly engineEvents = new Emitter<EngineStatus>()
  readonly progressEvents = new Emitter<ProgressEvent>()
  readonly epochEvents = new Emitter<EpochEvent>()
  readonly statusEvents = new Emitter<RunStatusEvent>()
  readonly datasetProgressEvents = new Emitter<DatasetProgress>()
  /** Requests the explorer sent, by method name. */
  readonly datasetCalls: Array<{ method: string; request: unknown }> = []
  /** Thrown by datasets.import / datasets.download when set. */
  importError: Error | null = null
  downloadError: Error | null = null
  /** Resolves a pending download; set while one runs. */
  finishDownload: (() => void) | null = null
  readonly startCalls: TrainingStartInput[] = []
  readonly stopCalls: Array<{ runId: string }> = []
  readonly pauseCalls: Array<{ runId: string }> = []
  readonly resumeCalls: Array<{ runId: string }> = []
  /** Listener counts at the moment training.start was called. */
  listenersAtStart: number | null = null
  datasetsReply: DatasetInfo[] = FAKE_DATASETS
  presetsReply: PresetInfo[] = FAKE_PRESETS
  engineReply: EngineStatus = { state: 'ready', backend: 'wasm' }
  startError: Error | null = null
  nextRunId = 'run-1'
  restartCalls = 0

  app: WorkbenchApi['app'] = {
    info: async () => ({ version: '0.0.0-test', host: 'web', dataDir: '/tmp/test' })
  }
  /** Kept runs, their evaluations and test images. */
  readonly runsFake = new FakeRuns()
  datasets: WorkbenchApi['datasets'] = {
    list: async () => this.datasetsReply,
    images: (request) => this.runsFake.images(request),
    inspect: async (request) => {
      this.datasetCalls.push({ method: 'inspect', request })
      return fakeInspection(this.datasetsReply, request.name)
    },
    samples: async (request) => {
      this.datasetCalls.push({ method: 'samples', request })
      return fakeSamples(this.datasetsReply, request)
    },
    stats: async (request) => {
      this.datasetCalls.push({ method: 'stats', request })
      return fakeStats(this.datasetsReply, request.name)
    },
    import: async (request) => {
      this.datasetCalls.push({ method: 'import', request })
      if (this.importError) throw this.importError
      const info: DatasetInfo = { ...FAKE_DATASETS[0], name: request.name ?? 'imported', title: request.name ?? 'imported', source: 'imported' }
      this.datasetsReply = [...this.datasetsReply, info]
      return info
    },
    probe: async (request) => {
      this.datasetCalls.push({ method: 'probe', request })
      return { kind: /images/.test(request.path) ? ('images' as const) : ('files' as const) }
    },
    download: async (request) => {
      this.datasetCalls.push({ method: 'download', request })
      await new Promise<void>((resolve) => (this.finishDownload = resolve))
      this.finishDownload = null
      if (this.downloadError) throw this.downloadError
      return { ...FAKE_DATASETS[1], available: true }
    },
    cancel: async (request) => {
      this.datasetCalls.push({ method: 'cancel', request })
      return { ok: true }
    },
    onProgress: this.datasetProgressEvents.on
  }
  presets: WorkbenchApi['presets'] = { list: async () => this.presetsReply }
  engine: WorkbenchApi['engine'] = {
    status: async () => this.engineReply,
    restart: async () => {
      this.restartCalls += 1
      return { state: 'stopped', backend: null }
    },
    onStatus: this.engineEvents.on
  }
  training: WorkbenchApi['training'] = {
    start: async (request) => {
      this.startCalls.push(request)
      this.listenersAtStart =
        this.progressEvents.listeners.size +
        this.epochEvents.listeners.size +
        this.statusEvents.listeners.size
      if (this.startError) throw this.startError
      return { runId: this.nextRunId }
    },
    stop: async (request) => {
      this.stopCalls.push(request)
      return { ok: true }
    },
    pause: async (request) => {
      this.pauseCalls.push(request)
      return { ok: true }
    },
    resume: async (request) => {
      this.resumeCalls.push(request)
      return { ok: true }
    },
    onProgress: this.progressEvents.on,
    onEpoch: this.epochEvents.on,
    onStatus: this.statusEvents.on
  }
  runs: WorkbenchApi['runs'] = this.runsFake.api
  readonly inspectFake = new FakeInspect()
  inspect: WorkbenchApi['inspect'] = this.inspectFake.api
}

/** A progress event for run-1 with sensible defaults. */
export function progressEvent(overrides: Partial<ProgressEvent> = {}): ProgressEvent {
  return {
    runId: 'run-1',
    epoch: 1,
    epochs: 5,
    batch: 10,
    batchesPerEpoch: 100,
    loss: 1.2,
    accuracy: 0.6,
    samplesPerSecond: 1500,
    elapsedMs: 4_000,
    etaMs: 65_000,
    ...overrides
  }
}
