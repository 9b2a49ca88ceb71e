import { tf } from './tf'
import { toEngineSchema, type FromEngine, type TrainJob } from '../shared/engine-protocol'
import { WorkbenchError, describeIssues, toErrorInfo } from '../shared/contract/errors'
import { summarizeModel } from '../shared/model/shape-inference'
import { incompatibility } from '../shared/model/compatibility'
import { selectBackend } from './backends/select'
import { prepareData } from './data'
import { normalizerOf, planForHyper, preprocessingFor } from './preprocess'
import { train, type ResumePoint } from './trainer'
import { readCheckpoint } from '../data/runs/run-folder'
import { chooseThreads } from './parallel-training'
import { loadDataset } from '../data/datasets/registry'
import type { LoadedDataset } from '../data/datasets/types'
import type { BackendName } from '../shared/hyper'
import { METHODS } from './methods'
import type { DatasetSource } from '../data/datasets/types'

/** Reads a run's checkpoint as the point a resumed training goes on from. */
async function resumePoint(runDir: string, valLosses: Array<number | null>): Promise<ResumePoint> {
  const ckpt = await readCheckpoint(runDir)
  return { epochsDone: ckpt.epoch, weights: ckpt.weights, optimizer: ckpt.optimizer, valLosses: valLosses.slice(0, ckpt.epoch) }
}

/** The engine's message handler: one training job at a time, validated input, typed errors out. */
export class EngineServer {
  private current: { runId: string; stop: { stopped: boolean; paused: boolean } } | null = null
  private datasets = new Map<string, LoadedDataset>()
  private backend: BackendName | null = null
  private calls = new Map<number, AbortController>()

  constructor(private readonly send: (m: FromEngine) => void) {}

  /** Handles one raw message from the parent; never throws. */
  handle(raw: unknown): void {
    const parsed = toEngineSchema.safeParse(raw)
    if (!parsed.success) {
      this.send({
        type: 'error',
        error: { code: 'BAD_REQUEST', message: `Engine got a malformed message: ${describeIssues(parsed.error)}` }
      })
      return
    }
    const msg = parsed.data
    switch (msg.type) {
      case 'ping':
        this.send({ type: 'pong', id: msg.id })
        return
      case 'memory': {
        const m = tf.memory()
        this.send({ type: 'memory', id: msg.id, numTensors: m.numTensors, numBytes: m.numBytes, rssBytes: process.memoryUsage().rss })
        return
      }
      case 'stop':
        if (this.current?.runId === msg.runId) this.current.stop.stopped = true
        return
      case 'pause':
      case 'resume':
        if (this.current?.runId === msg.runId) this.current.stop.paused = msg.type === 'pause'
        return
      case 'cancel':
        this.calls.get(msg.id)?.abort()
        return
      case 'call':
        void this.runCall(msg.id, msg.method, msg.params)
        return
      case 'train':
        if (this.current) {
          this.send({
            type: 'failed',
            runId: msg.job.runId,
            error: { code: 'BUSY', message: 'A training run is already in progress. Stop it first.' }
          })
          return
        }
        void this.runJob(msg.job)
    }
  }

  private async runCall(id: number, name: string, raw: unknown): Promise<void> {
    const method = Object.hasOwn(METHODS, name) ? METHODS[name] : undefined
    const controller = new AbortController()
    this.calls.set(id, controller)
    try {
      if (!method) throw new WorkbenchError('BAD_REQUEST', `The engine has no method ${name}.`)
      const params = method.params.safeParse(raw)
      if (!params.success) {
        throw new WorkbenchError('BAD_REQUEST', `Invalid ${name} request: ${describeIssues(params.error)}`)
      }
      if (!this.backend) this.backend = (await selectBackend('auto')).backend
      const value = await method.handler(params.data, {
        progress: (payload) => this.send({ type: 'callProgress', id, payload }),
        signal: controller.signal,
        loadDataset: (source) => this.loadCachedSource(source)
      })
      this.send({ type: 'reply', id, ok: true, value })
    } catch (err) {
      if (process.env.CNN_WORKBENCH_DEBUG) console.error(err)
      this.send({ type: 'reply', id, ok: false, error: toErrorInfo(err) })
    } finally {
      this.calls.delete(id)
    }
  }

  private async loadCached(job: TrainJob): Promise<LoadedDataset> {
    return this.loadCachedSource(job.dataset)
  }

  private async loadCachedSource(source: DatasetSource): Promise<LoadedDataset> {
    const key = JSON.stringify(source)
    const cached = this.datasets.get(key)
    if (cached) return cached
    const ds = await loadDataset(source)
    this.datasets.clear()
    this.datasets.set(key, ds)
    return ds
  }

  private async runJob(job: TrainJob): Promise<void> {
    const stop = { stopped: false, paused: false }
    this.current = { runId: job.runId, stop }
    let data: ReturnType<typeof prepareData> | null = null
    try {
      const summary = summarizeModel(job.spec)
      if (summary.errors.length > 0) {
        const e = summary.errors[0]
        throw new WorkbenchError('INVALID_MODEL', `Layer ${e.index + 1}: ${e.message}`)
      }
      const ds = await this.loadCached(job)
      const problem = incompatibility(job.spec, summary.outputShape, ds)
      if (problem) throw problem
      const chosen = await selectBackend(job.hyper.backend)
      this.backend = chosen.backend
      const plan = planForHyper(ds, job.hyper)
      const preprocessing = preprocessingFor(ds, job.hyper, plan)
      const threads = chooseThreads(job.spec, job.hyper, chosen.backend)
      data = prepareData(ds, plan, threads > 1, normalizerOf(preprocessing, ds.shape))
      this.send({
        type: 'started',
        runId: job.runId,
        backend: chosen.backend,
        notes: threads > 1 ? [...chosen.notes, `training on ${threads} threads`] : chosen.notes,
        params: summary.trainableParams,
        trainCount: data.train.count,
        valCount: data.validation?.count ?? 0,
        testCount: data.test.count,
        preprocessing
      })
      const resume = job.resumeFrom ? await resumePoint(job.resumeFrom.runDir, job.resumeFrom.valLosses) : undefined
      const result = await train(
        job.spec,
        job.hyper,
        data,
        {
          progress: (e) => this.send({ type: 'progress', runId: job.runId, ...e }),
          epoch: (metrics, weights, optimizer) =>
            this.send({ type: 'epoch', runId: job.runId, metrics, weights, optimizer })
        },
        stop,
        job.runId,
        { threads, resume }
      )
      this.send({ type: 'done', runId: job.runId, status: result.status, test: result.test, ...(result.note ? { note: result.note } : {}) })
    } catch (err) {
      if (process.env.CNN_WORKBENCH_DEBUG) console.error(err)
      this.send({ type: 'failed', runId: job.runId, error: toErrorInfo(err) })
    } finally {
      data?.dispose()
      this.current = null
    }
  }

  get backendName(): BackendName | null {
    return this.backend
  }
}
