import type { EngineSupervisor } from '../engine/supervisor'
import type { RunStore } from '../../data/runs/run-store'
import type { EventSink } from '../../shared/contract/api'
import type { RunBranch, RunRecord, TrainingStart } from '../../shared/contract/types'
import type { FromEngine, TrainJob } from '../../shared/engine-protocol'
import { stat, statfs, truncate } from 'node:fs/promises'
import { freemem } from 'node:os'
import { join } from 'node:path'
import { copyCheckpoint, readCheckpointEpoch } from '../../data/runs/run-folder'
import type { DatasetSource } from '../../data/datasets/types'
import { WorkbenchError, toErrorInfo, type ErrorInfo } from '../../shared/contract/errors'
import { summarizeModel } from '../../shared/model/shape-inference'
import { incompatibility } from '../../shared/model/compatibility'
import { sourceImageShape } from '../../data/datasets/source-shape'
import { backendMemoryLimit, checkMemoryBudget, formatBytes } from '../../shared/model/memory-budget'
import type { Hyper } from '../../shared/hyper'
import type { ModelSpec } from '../../shared/model/spec'
import { acquireRunLock, type RunLock } from './run-lock'
import { DatasetHasher } from '../../data/datasets/dataset-hash'

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
  /** This process's hold on the run folder; released once the run's files are final. */
  lock: RunLock
  /** The first write that failed: the run ends failed with it, whatever the engine says. */
  writeError: ErrorInfo | null
  /** Set once finish() has begun, so a second ending (engine gone after done) is ignored. */
  finishing: boolean
}

/** What a run start holds between its synchronous reservation and the engine taking the job. */
interface Reservation {
  released: boolean
}

/**
 * Owns the training path between the API and the engine: validates, creates the run folder,
 * hands the job to the engine, records what comes back, and forwards events to the UI.
 */
export class TrainingService {
  private active: ActiveRun | null = null
  /**
   * Taken synchronously by start, resume and branch before their first await, so of two
   * requests arriving together exactly one goes on and the other gets BUSY.
   */
  private reservation: Reservation | null = null
  /** The last run's after-run work (evaluation), which still holds its run folder's lock. */
  private settling: Promise<void> = Promise.resolve()
  private readonly hasher = new DatasetHasher()

  constructor(
    private readonly engine: EngineSupervisor,
    private readonly runs: RunStore,
    private readonly datasets: DatasetResolver,
    private readonly emit: EventSink,
    /** Runs after a completed or stopped run's files are written (the test-split evaluation). */
    private readonly afterRun?: (runId: string, dataset: DatasetSource) => Promise<void>
  ) {
    engine.onMessage((m) => this.onEngineMessage(m))
    engine.onGone((error) => this.onEngineGone(error))
  }

  /**
   * Reserves the training slot before any await; throws BUSY when a run trains or another start
   * holds it. The caller releases it in a finally (a launched run has taken over by then).
   */
  private reserve(what: string): Reservation {
    if (this.active || this.reservation) {
      throw new WorkbenchError('BUSY', `A training run is already in progress. Stop it before ${what}.`)
    }
    const r: Reservation = { released: false }
    this.reservation = r
    return r
  }

  private release(r: Reservation): void {
    if (r.released) return
    r.released = true
    if (this.reservation === r) this.reservation = null
  }

  /**
   * Refuses a model whose checkpoint or training batch cannot fit, before any folder or tensor
   * exists. The backend is the one asked for, or the one the engine runs on; the engine checks
   * again against what it really has left once the data is loaded.
   */
  private checkMemory(spec: ModelSpec, hyper: Hyper): void {
    const { batchSize, backend, optimizer } = hyper
    const summary = summarizeModel(spec)
    const name = backend !== 'auto' ? backend : this.engine.status().backend ?? 'wasm'
    const verdict = checkMemoryBudget(summary, {
      batchSize,
      optimizer,
      backend: name,
      limitBytes: backendMemoryLimit(name, freemem())
    })
    if (!verdict.ok) {
      throw new WorkbenchError('MODEL_TOO_LARGE', verdict.message, {
        neededBytes: verdict.neededBytes,
        availableBytes: verdict.availableBytes
      })
    }
  }

  async start(req: TrainingStart): Promise<{ runId: string }> {
    const slot = this.reserve('starting another')
    try {
      const summary = summarizeModel(req.spec)
      if (summary.errors.length > 0) {
        const e = summary.errors[0]
        throw new WorkbenchError('INVALID_MODEL', `The model cannot be trained: layer ${e.index + 1}: ${e.message}`, {
          errors: summary.errors
        })
      }
      this.checkMemory(req.spec, req.hyper)
      const dataset = await this.datasets.resolve(req.dataset)
      // Checked before a run folder exists, with the engine's own words (it checks again).
      const shape = await sourceImageShape(dataset)
      const problem = shape && incompatibility(req.spec, summary.outputShape, { ...dataset, shape })
      if (problem) throw problem
      const datasetHash = await this.hashOf(dataset)
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
        error: null,
        ...(datasetHash ? { datasetHash } : {})
      }
      await this.runs.create(record)
      const lock = await acquireRunLock(this.runs.dir(id), 'training')
      await this.launch({ runId: id, spec: req.spec, hyper: req.hyper, dataset }, lock, slot)
      return { runId: id }
    } finally {
      this.release(slot)
    }
  }

  /** The dataset's content hash; null when its files cannot be read (the engine then says why). */
  private async hashOf(dataset: DatasetSource): Promise<string | null> {
    return this.hasher.hash(dataset).catch(() => null)
  }

  /**
   * Whether a run's dataset still holds the data it trained on: null when the run recorded no
   * hash (older runs) or the dataset cannot be read now.
   */
  async datasetChanged(record: RunRecord): Promise<boolean | null> {
    if (!record.datasetHash) return null
    try {
      const now = await this.hashOf(await this.datasets.resolve(record.dataset))
      return now === null ? null : now !== record.datasetHash
    } catch {
      return null
    }
  }

  /**
   * Goes on with a stopped or failed run from its last checkpoint (weights and optimizer state)
   * up to its epoch count, in the same run folder; metrics.jsonl is appended to.
   */
  async resumeRun(runId: string): Promise<{ runId: string }> {
    const slot = this.reserve('resuming another')
    try {
      // The run that just ended may still be evaluated, holding its folder's lock until then.
      await this.settling
      // NOT_FOUND for a run that does not exist, before the lock would fail on its missing folder.
      await this.runs.read(runId)
      const lock = await acquireRunLock(this.runs.dir(runId), 'resuming')
      try {
        return await this.resumeLocked(runId, lock, slot)
      } catch (err) {
        await lock.release()
        throw err
      }
    } finally {
      this.release(slot)
    }
  }

  private async resumeLocked(runId: string, lock: RunLock, slot: Reservation): Promise<{ runId: string }> {
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
    this.checkMemory(record.spec, record.hyper)
    const dataset = await this.datasets.resolve(record.dataset)
    const datasetHash = await this.hashOf(dataset)
    if (record.datasetHash && datasetHash && datasetHash !== record.datasetHash) {
      throw new WorkbenchError(
        'INCOMPATIBLE',
        `The dataset ${record.dataset} has changed since run ${runId} trained on it (it was replaced or ` +
          're-imported), so resuming would mix two datasets in one run. Start a new run on the current data instead.',
        { recorded: record.datasetHash, now: datasetHash }
      )
    }
    // Epochs after the checkpoint (cut off by a crash) are trained again, so their lines go.
    await this.runs.truncateMetrics(runId, epoch)
    const valLosses = (await this.runs.readMetrics(runId)).map((m) => m.valLoss)
    await this.runs.update(runId, { status: 'starting', epochsDone: epoch, test: null, error: null })
    await this.launch(
      {
        runId,
        spec: record.spec,
        hyper: record.hyper,
        dataset,
        resumeFrom: { runDir: this.runs.dir(runId), valLosses }
      },
      lock,
      slot
    )
    return { runId }
  }

  /**
   * Branches a run: a new run folder with the parent's model, metrics and checkpoint (weights and
   * optimizer state after its last saved epoch N), trained on from epoch N + 1 with a new learning rate.
   */
  async branchRun(req: RunBranch): Promise<{ runId: string }> {
    const slot = this.reserve('branching a run')
    try {
      return await this.branchReserved(req, slot)
    } finally {
      this.release(slot)
    }
  }

  private async branchReserved(req: RunBranch, slot: Reservation): Promise<{ runId: string }> {
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
    const lock = await acquireRunLock(this.runs.dir(id), 'branching')
    try {
      try {
        const metrics = (await this.runs.readMetrics(parent.id)).filter((m) => m.epoch <= epoch)
        for (const m of metrics) await this.runs.appendMetrics(id, m)
        await copyCheckpoint(this.runs.dir(parent.id), this.runs.dir(id))
      } catch (err) {
        if (err instanceof WorkbenchError) throw err
        throw new WorkbenchError('IO_ERROR', `Cannot copy run ${parent.id} into its branch ${id}: ${toErrorInfo(err).message}`)
      }
      return await this.resumeLocked(id, lock, slot)
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  /** The epoch of a run's checkpoint, or null when it has none. */
  private async checkpointEpoch(runId: string): Promise<number | null> {
    return readCheckpointEpoch(this.runs.dir(runId))
  }

  private async launch(job: TrainJob, lock: RunLock, slot: Reservation): Promise<void> {
    const id = job.runId
    let settle = (): void => undefined
    const finished = new Promise<void>((r) => (settle = r))
    this.active = {
      id,
      spec: job.spec,
      dataset: job.dataset,
      writes: Promise.resolve(),
      settle,
      finished,
      started: false,
      paused: false,
      lock,
      writeError: null,
      finishing: false
    }
    // The active run holds the slot from here on.
    this.release(slot)
    this.emit('training:status', { runId: id, status: 'starting' })
    try {
      await this.engine.send({ type: 'train', job })
    } catch (err) {
      await this.finish(id, { status: 'failed', error: toErrorInfo(err) })
      throw err
    }
  }

  async stop(runId: string): Promise<{ ok: true }> {
    if (!this.active || this.active.id !== runId || this.active.finishing) {
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
    // The last run's evaluation and lock release, which go on after it stopped being active.
    await this.settling
  }

  /**
   * Queues a write to the run folder. The first failing write fails the run: later writes are
   * skipped, the engine is told to stop, and finish() reports the write's error, so what the run
   * says never gets ahead of what is on disk.
   */
  private queue(run: ActiveRun, work: () => Promise<unknown>): void {
    run.writes = run.writes.then(async () => {
      if (run.writeError) return
      try {
        await work()
      } catch (err) {
        run.writeError = toErrorInfo(err)
        if (!run.finishing) void this.engine.send({ type: 'stop', runId: run.id }).catch(() => undefined)
      }
    })
  }

  /**
   * Writes one epoch so that the checkpoint swap is the commit point: metrics line and filter
   * snapshot first, then the checkpoint, then run.json. When any of them fails, the metrics line
   * is cut off again, so metrics.jsonl and model/ both end at the previous epoch.
   */
  private async writeEpoch(run: ActiveRun, m: Extract<FromEngine, { type: 'epoch' }>): Promise<void> {
    const epoch = m.metrics.epoch
    const metricsPath = join(this.runs.dir(run.id), 'metrics.jsonl')
    const sizeBefore = await stat(metricsPath).then(
      (s) => s.size,
      () => 0
    )
    try {
      await this.runs.appendMetrics(run.id, m.metrics)
      await this.runs.writeFilterSnapshot(run.id, epoch, m.weights)
      await this.runs.writeCheckpoint(run.id, run.spec, m.weights, epoch, m.optimizer)
    } catch (err) {
      await truncate(metricsPath, sizeBefore).catch(() => undefined)
      throw await this.writeFailure(run, epoch, m, err)
    }
    await this.runs.update(run.id, { epochsDone: epoch })
  }

  /** The typed error of a failed epoch write; for a full disk it says how much space is needed. */
  private async writeFailure(
    run: ActiveRun,
    epoch: number,
    m: Extract<FromEngine, { type: 'epoch' }>,
    err: unknown
  ): Promise<WorkbenchError> {
    const info = toErrorInfo(err)
    const dir = this.runs.dir(run.id)
    const neededBytes = [...m.weights, ...m.optimizer].reduce((a, w) => a + w.data.byteLength, 0) + 64 * 1024
    const free = await statfs(dir).then(
      (s) => s.bavail * s.bsize,
      () => null
    )
    const full = /ENOSPC|disk is full/i.test(info.message)
    const saved = epoch > 1 ? `the run is saved up to epoch ${epoch - 1}` : 'no epoch of the run is saved'
    const space = `Saving epoch ${epoch} needs about ${formatBytes(neededBytes)}${free === null ? '' : `; ${formatBytes(free)} is free there`}.`
    return new WorkbenchError(
      'IO_ERROR',
      full
        ? `The disk holding ${dir} is full, so the run was stopped and ${saved}. ${space} Free at least that much, then resume the run.`
        : `Writing epoch ${epoch} of run ${run.id} failed, so the run was stopped and ${saved}: ${info.message}`,
      { neededBytes, freeBytes: free, epoch, cause: info.message }
    )
  }

  private onEngineMessage(m: FromEngine): void {
    const run = this.active
    // An engine error tied to no run (a message it could not read, or one main could not) leaves
    // the active run without a trustworthy outcome: it fails, with that error.
    if (run && !run.finishing && m.type === 'error') {
      void this.engine.send({ type: 'stop', runId: run.id }).catch(() => undefined)
      void this.finish(run.id, { status: 'failed', error: m.error })
      return
    }
    if (!run || run.finishing || !('runId' in m) || m.runId !== run.id) return
    switch (m.type) {
      case 'started':
        run.started = true
        this.engine.setBackend(m.backend)
        this.queue(run, () =>
          this.runs.update(run.id, { status: 'running', backend: m.backend, preprocessing: m.preprocessing })
        )
        this.emit('training:status', {
          runId: run.id,
          status: 'running',
          backend: m.backend,
          params: m.params,
          ...(m.notes.length > 0 ? { notes: m.notes } : {})
        })
        return
      case 'progress': {
        const { type: _t, ...event } = m
        this.emit('training:progress', event)
        return
      }
      case 'epoch':
        this.emit('training:epoch', { runId: run.id, ...m.metrics })
        this.queue(run, () => this.writeEpoch(run, m))
        return
      case 'done':
        void this.finish(run.id, { status: m.status, test: m.test, note: m.note })
        return
      case 'failed':
        void this.finish(run.id, { status: 'failed', error: m.error })
        return
    }
  }

  /** The engine went away (crash, kill, restart, frozen): the run on it is over, and failed. */
  private onEngineGone(error: ErrorInfo): void {
    const run = this.active
    if (!run || run.finishing) return
    const message =
      `${error.message} Run ${run.id} was cut off; ` +
      'it can be resumed from its last saved epoch (Runs view, or train --resume).'
    void this.finish(run.id, { status: 'failed', error: { ...error, message } })
  }

  private async finish(
    runId: string,
    outcome: Pick<RunRecord, 'status'> & { test?: RunRecord['test']; error?: RunRecord['error']; note?: string }
  ): Promise<void> {
    const run = this.active
    if (!run || run.id !== runId || run.finishing) return
    run.finishing = true
    await run.writes
    if (run.writeError) outcome = { status: 'failed', error: run.writeError }
    try {
      await this.runs.update(runId, { status: outcome.status, test: outcome.test ?? null, error: outcome.error ?? null })
    } catch {
      // The status event below still tells the user; the run folder keeps its last good state.
    }
    this.active = null
    this.emit('training:status', {
      runId,
      status: outcome.status,
      ...(outcome.test ? { test: outcome.test } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.note ? { note: outcome.note } : {})
    })
    const after = (async () => {
      try {
        if (outcome.status !== 'failed') await this.afterRun?.(runId, run.dataset)
      } finally {
        await run.lock.release().catch(() => undefined)
      }
    })()
    this.settling = after.catch(() => undefined)
    await after
    run.settle()
  }
}
