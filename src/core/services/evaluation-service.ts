import type { EngineSupervisor } from '../engine/supervisor'
import type { RunStore } from '../../data/runs/run-store'
import type { EventSink } from '../../shared/contract/api'
import type { DatasetSource } from '../../data/datasets/types'
import type { DatasetResolver } from './training-service'
import { evaluationSchema, type Evaluation } from '../../shared/contract/runs'
import { WorkbenchError, toErrorInfo } from '../../shared/contract/errors'
import { readEvaluationJson, writeEvaluation } from '../../data/runs/run-folder'
import { z } from 'zod'

/** The engine's evaluation progress; a malformed one is left out rather than shown. */
const evaluationProgressSchema = z.object({ done: z.number().int(), total: z.number().int() })

/**
 * Evaluates finished runs on their test split in the engine and keeps the result in
 * `runs/<id>/evaluation.json`. One evaluation per run at a time; deleting a run cancels it.
 */
export class EvaluationService {
  private readonly pending = new Map<string, { promise: Promise<Evaluation>; abort: AbortController }>()

  constructor(
    private readonly engine: EngineSupervisor,
    private readonly runs: RunStore,
    private readonly datasets: DatasetResolver,
    private readonly emit: EventSink
  ) {}

  /** The stored evaluation of a run, or null when there is none yet. */
  async read(runId: string): Promise<Evaluation | null> {
    const parsed = evaluationSchema.safeParse(await readEvaluationJson(this.runs.dir(runId)))
    return parsed.success ? parsed.data : null
  }

  /** The stored evaluation, or a new one from the run's checkpoint when there is none. */
  async get(runId: string): Promise<Evaluation> {
    const running = this.pending.get(runId)
    if (running) return running.promise
    const record = await this.runs.read(runId)
    const stored = await this.read(runId)
    if (stored) return stored
    if (record.status === 'starting' || record.status === 'running') {
      throw new WorkbenchError('BUSY', `Run ${runId} is still training; its evaluation follows when it ends.`)
    }
    return this.evaluate(runId)
  }

  /** Evaluates a run's checkpoint, stores the result atomically and emits `training:evaluation`. */
  evaluate(runId: string, source?: DatasetSource): Promise<Evaluation> {
    const running = this.pending.get(runId)
    if (running) return running.promise
    const abort = new AbortController()
    const promise = this.run(runId, source, abort.signal).finally(() => this.pending.delete(runId))
    this.pending.set(runId, { promise, abort })
    return promise
  }

  /** Evaluates after training; failures become an event, never a thrown error. */
  async afterTraining(runId: string, source: DatasetSource): Promise<void> {
    try {
      await this.evaluate(runId, source)
    } catch (err) {
      // A run stopped before its first epoch has no checkpoint: nothing to evaluate.
      if (err instanceof WorkbenchError && (err.code === 'NOT_FOUND' || err.code === 'CANCELLED')) return
      this.emit('training:evaluation', { runId, error: toErrorInfo(err) })
    }
  }

  /** Cancels a run's evaluation in progress, if any. */
  cancel(runId: string): void {
    this.pending.get(runId)?.abort.abort()
  }

  private async run(runId: string, source: DatasetSource | undefined, signal: AbortSignal): Promise<Evaluation> {
    const record = await this.runs.read(runId)
    const dataset = source ?? (await this.datasets.resolve(record.dataset))
    const evaluation = await this.engine.call(
      'evaluate',
      { runId, runDir: this.runs.dir(runId), dataset, seed: record.hyper.seed },
      evaluationSchema,
      {
        signal,
        onProgress: (p) => {
          const progress = evaluationProgressSchema.safeParse(p)
          if (progress.success) this.emit('training:evaluation', { runId, progress: progress.data })
        }
      }
    )
    if (signal.aborted) throw new WorkbenchError('CANCELLED', 'The evaluation was cancelled.')
    await writeEvaluation(this.runs.dir(runId), evaluation)
    this.emit('training:evaluation', { runId, evaluation })
    return evaluation
  }
}
