import type { EngineSupervisor } from '../engine/supervisor'
import type { RunStore } from '../../data/runs/run-store'
import type { EventSink } from '../../shared/contract/api'
import type { RunBranch, RunRecord, TrainingStart } from '../../shared/contract/types'
import type { FromEngine, TrainJob } from '../../shared/engine-protocol'
import { copyCheckpoint, readCheckpointEpoch } from '../../data/runs/run-folder'
import type { DatasetSource } from '../../data/datasets/types'
import { WorkbenchError, toErrorInfo } from '../../shared/contract/errors'
import { summarizeModel } from '../../shared/model/shape-inference'
import { incompatibility } from '../../shared/model/compatibility'
import { sourceImageShape } from '../../data/datasets/source-shape'

/** Resolves a dataset name or path to files the engine can load. */
export interface DatasetResolver {
  resolve(ref: string): Promise<DatasetSource>
}

interface ActiveRun {
  id: string
  spec: TrainingStart['spec']
  dataset: DatasetSource
  /** Serializes disk writes so metrics and checkpoints land in order. */
  writes: Promise<void>
  settle: () => void
  finished: Promise<void>
  /** Set once the engine said it started; pausing before then has nothing to hold. */
  started: boolean
  paused: boolean
}

/**
 * Owns the training path between the API and the engine: validates, creates the run folder,
 * hands the job to the engine, records what comes back, and forwards events to the UI.
 */
export class TrainingService {
  private active: ActiveRun | null = null

  constructor(
    private readonly engine: EngineSupervisor,
    private readonly runs: RunStore,
    private readonly datasets: DatasetResolver,
    private readonly emit: EventSink,
    /** Runs after a completed or stopped run's files are written (the test-split evaluation). */
    private readonly afterRun?: (runId: string, dataset: DatasetSource) => Promise<void>
  ) {
    engine.onMessage((m) => this.onEngineMessage(m))
    engine.onCrash((reason) => this.onEngineCrash(reason))
  }

  async start(req: TrainingStart): Promise<{ runId: string }> {
    if (this.active) {
      throw new WorkbenchError('BUSY', 'A training run is already in progress. Stop it before starting another.')
    }
    const summary = summarizeModel(req.spec)
    if (summary.errors.length > 0) {
      const e = summary.errors[0]
      throw new WorkbenchError('INVALID_MODEL', `The model cannot be trained: layer ${e.index + 1}: ${e.message}`, {
        errors: summary.errors
      })
    }
    const dataset = await this.datasets.resolve(req.dataset)
    // Checked before a run folder exists, with the engine's own words (it checks again).
    const shape = await sourceImageShape(dataset)
    const problem = shape && incompatibility(req.spec, summary.outputShape, { ...dataset, shape })
    if (problem) throw problem
    const id = this.runs.newId()
    const record: RunRecord = {
      id,
      createdAt: new Date().toISOString(),
      status: 'starting',
      spec: req.spec,
      dataset: dataset.name,
      hyper: req.hyper,
      backend: null,
      params: summary.trainableParams,
      epochsDone: 0,
      test: null,
      error: null
    }
    await this.runs.create(record)
    await this.launch({ runId: id, spec: req.spec, hyper: req.hyper, dataset })
    return { runId: id }
  }

  /**
   * Goes on with a stopped or failed run from its last checkpoint (weights and optimizer state)
   * up to its epoch count, in the same run folder; metrics.jsonl is appended to.
   */
  async resumeRun(runId: string): Promise<{ runId: string }> {
    if (this.active) {
      throw new WorkbenchError('BUSY', 'A training run is already in progress. Stop it before resuming another.')
    }
    const record = await this.runs.read(runId)
    // Nothing trains here now, so a run still marked running was cut off (the app or CLI was killed).
    if (record.status === 'completed') {
      throw new WorkbenchError(
        'BAD_REQUEST',
        `Run ${runId} is completed; only a stopped, failed or interrupted run can be resumed. Branch it to train further.`
      )
    }
    const epoch = await this.checkpointEpoch(runId)
    if (epoch === null) {
      throw new WorkbenchError(
        'NOT_FOUND',
        `Run ${runId} has no checkpoint: it ended before its first epoch finished. Start a new run instead.`
      )
    }
    if (epoch >= record.hyper.epochs) {
      throw new WorkbenchError('BAD_REQUEST', `Run ${runId} already trained all its ${record.hyper.epochs} epochs. Branch it to train further.`)
    }
    const dataset = await this.datasets.resolve(record.dataset)
    // Epochs after the checkpoint (cut off by a crash) are trained again, so their lines go.
    await this.runs.truncateMetrics(runId, epoch)
    const valLosses = (await this.runs.readMetrics(runId)).map((m) => m.valLoss)
    await this.runs.update(runId, { status: 'starting', epochsDone: epoch, test: null, error: null })
    await this.launch({
      runId,
      spec: record.spec,
      hyper: record.hyper,
      dataset,
      resumeFrom: { runDir: this.runs.dir(runId), valLosses }
    })
    return { runId }
  }

  /**
   * Branches a run: a new run folder with the parent's model, metrics and checkpoint (weights and
   * optimizer state after its last saved epoch N), trained on from epoch N + 1 with a new learning rate.
   */
  async branchRun(req: RunBranch): Promise<{ runId: string }> {
    if (this.active) {
      throw new WorkbenchError('BUSY', 'A training run is already in progress. Stop it before branching a run.')
    }
    const parent = await this.runs.read(req.runId)
    const epoch = await this.checkpointEpoch(req.runId)
    if (epoch === null) {
      throw new WorkbenchError('NOT_FOUND', `Run ${req.runId} has no checkpoint to branch from; train it for at least one epoch.`)
    }
    const epochs = req.epochs ?? parent.hyper.epochs
    if (epochs <= epoch) {
      throw new WorkbenchError(
        'BAD_REQUEST',
        `The branch starts after epoch ${epoch}, so give it more than ${epoch} epochs in all (got ${epochs}).`
      )
    }
    const id = this.runs.newId()
    const record: RunRecord = {
      ...parent,
      id,
      createdAt: new Date().toISOString(),
      status: 'stopped',
      hyper: { ...parent.hyper, learningRate: req.learningRate, epochs },
      epochsDone: epoch,
      test: null,
      error: null,
      name: `${parent.name ?? parent.id} · branch at epoch ${epoch}, lr ${req.learningRate}`,
      notes: undefined,
      branchOf: { runId: parent.id, epoch }
    }
    await this.runs.create(record)
    try {
      const metrics = (await this.runs.readMetrics(parent.id)).filter((m) => m.epoch <= epoch)
      for (const m of metrics) await this.runs.appendMetrics(id, m)
      await copyCheckpoint(this.runs.dir(parent.id), this.runs.dir(id))
    } catch (err) {
      throw new WorkbenchError('IO_ERROR', `Cannot copy run ${parent.id} into its branch ${id}: ${toErrorInfo(err).message}`)
    }
    return this.resumeRun(id)
  }

  /** The epoch of a run's checkpoint, or null when it has none. */
  private async checkpointEpoch(runId: string): Promise<number | null> {
    return readCheckpointEpoch(this.runs.dir(runId))
  }

  private async launch(job: TrainJob): Promise<void> {
    const id = job.runId
    let settle = (): void => undefined
    const finished = new Promise<void>((r) => (settle = r))
    this.active = { id, spec: job.spec, dataset: job.dataset, writes: Promise.resolve(), settle, finished, started: false, paused: false }
    this.emit('training:status', { runId: id, status: 'starting' })
    try {
      await this.engine.send({ type: 'train', job })
    } catch (err) {
      await this.finish(id, { status: 'failed', error: toErrorInfo(err) })
      throw err
    }
  }

  async stop(runId: string): Promise<{ ok: true }> {
    if (!this.active || this.active.id !== runId) {
      throw new WorkbenchError('NOT_FOUND', `Run ${runId} is not training.`)
    }
    await this.engine.send({ type: 'stop', runId })
    return { ok: true }
  }

  /** Holds the active run between batches; its elapsed time does not count while paused. */
  async pause(runId: string): Promise<{ ok: true }> {
    return this.setPaused(runId, true)
  }

  /** Lets a paused run go on from the batch where it was held. */
  async resume(runId: string): Promise<{ ok: true }> {
    return this.setPaused(runId, false)
  }

  private async setPaused(runId: string, paused: boolean): Promise<{ ok: true }> {
    const run = this.active
    if (!run || run.id !== runId) {
      throw new WorkbenchError('NOT_FOUND', `Run ${runId} is not training, so it cannot be ${paused ? 'paused' : 'resumed'}.`)
    }
    if (!run.started) {
      throw new WorkbenchError('BUSY', 'The run is still loading its data. Pause it once the first batches show.')
    }
    await this.engine.send({ type: paused ? 'pause' : 'resume', runId })
    run.paused = paused
    this.emit('training:status', { runId, status: paused ? 'paused' : 'running' })
    return { ok: true }
  }

  /** The run that is training now, if any. */
  get activeRunId(): string | null {
    return this.active?.id ?? null
  }

  /** Resolves when the given run (or the active one) has finished and its files are written. */
  async whenIdle(): Promise<void> {
    await this.active?.finished
  }

  private queue(run: ActiveRun, work: () => Promise<unknown>): void {
    run.writes = run.writes.then(work).then(
      () => undefined,
      (err) => {
        this.emit('training:status', { runId: run.id, status: 'running', error: toErrorInfo(err) })
      }
    )
  }

  private onEngineMessage(m: FromEngine): void {
    const run = this.active
    // An engine error tied to no run (a message it could not read, or one main could not) leaves
    // the active run without a trustworthy outcome: it fails, with that error.
    if (run && m.type === 'error') {
      void this.engine.send({ type: 'stop', runId: run.id }).catch(() => undefined)
      void this.finish(run.id, { status: 'failed', error: m.error })
      return
    }
    if (!run || !('runId' in m) || m.runId !== run.id) return
    switch (m.type) {
      case 'started':
        run.started = true
        this.engine.setBackend(m.backend)
        this.queue(run, () =>
          this.runs.update(run.id, { status: 'running', backend: m.backend, preprocessing: m.preprocessing })
        )
        this.emit('training:status', { runId: run.id, status: 'running', backend: m.backend, params: m.params })
        return
      case 'progress': {
        const { type: _t, ...event } = m
        this.emit('training:progress', event)
        return
      }
      case 'epoch':
        this.emit('training:epoch', { runId: run.id, ...m.metrics })
        this.queue(run, async () => {
          await this.runs.appendMetrics(run.id, m.metrics)
          await this.runs.writeCheckpoint(run.id, run.spec, m.weights, m.metrics.epoch, m.optimizer)
          await this.runs.writeFilterSnapshot(run.id, m.metrics.epoch, m.weights)
          await this.runs.update(run.id, { epochsDone: m.metrics.epoch })
        })
        return
      case 'done':
        void this.finish(run.id, { status: m.status, test: m.test, note: m.note })
        return
      case 'failed':
        void this.finish(run.id, { status: 'failed', error: m.error })
        return
    }
  }

  private onEngineCrash(reason: string): void {
    const run = this.active
    if (!run) return
    void this.finish(run.id, { status: 'failed', error: { code: 'ENGINE_CRASHED', message: reason } })
  }

  private async finish(
    runId: string,
    outcome: Pick<RunRecord, 'status'> & { test?: RunRecord['test']; error?: RunRecord['error']; note?: string }
  ): Promise<void> {
    const run = this.active
    if (!run || run.id !== runId) return
    this.active = null
    await run.writes
    try {
      await this.runs.update(runId, { status: outcome.status, test: outcome.test ?? null, error: outcome.error ?? null })
    } catch {
      // The status event below still tells the user; the run folder keeps its last good state.
    }
    this.emit('training:status', {
      runId,
      status: outcome.status,
      ...(outcome.test ? { test: outcome.test } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.note ? { note: outcome.note } : {})
    })
    if (outcome.status !== 'failed') await this.afterRun?.(runId, run.dataset)
    run.settle()
  }
}
