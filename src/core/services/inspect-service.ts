import { randomUUID } from 'node:crypto'
import type { EngineSupervisor } from '../engine/supervisor'
import type { RunStore } from '../../data/runs/run-store'
import type { EventSink, ParsedRequestOf, ResponseOf } from '../../shared/contract/api'
import type { DatasetSource } from '../../data/datasets/types'
import type { DatasetResolver } from './training-service'
import { WorkbenchError, toErrorInfo } from '../../shared/contract/errors'
import type { RunRecord } from '../../shared/contract/types'
import { RUN_FILE, readRunRecord } from '../../data/runs/run-folder'
import {
  activationsSchema,
  embedResultSchema,
  filtersSchema,
  predictionResultSchema,
  saliencySchema,
  topImagesSchema,
  type EmbedEvent,
  type EmbedResult
} from '../../shared/contract/inspect'

// The engine's replies, checked where they arrive; main adds the class names itself.
const enginePrediction = predictionResultSchema.omit({ classes: true })
const engineActivations = activationsSchema.omit({ classes: true })
const engineSaliency = saliencySchema.omit({ classes: true })
const engineTopImages = topImagesSchema.omit({ classes: true })

/** Embeddings that may run at once (two maps side by side). */
const MAX_EMBED_JOBS = 2

/** Settings of one embedding, as the engine takes them (defaults filled in). */
export type EmbedSettings = Omit<ParsedRequestOf<'inspect:embed'>, 'runId'>

/** Reads `<runDir>/run.json`: which dataset and spec a run folder holds. */
export async function readRunFolder(runDir: string): Promise<RunRecord> {
  const record = await readRunRecord(runDir)
  if (!record) {
    throw new WorkbenchError('NOT_FOUND', `${runDir} is not a run folder (it has no ${RUN_FILE}). Give the folder of a run under <data folder>/runs/.`)
  }
  return record
}

/**
 * Looks inside a trained run: predictions on drawings, every layer's output, filters, saliency and
 * 2-D maps of a layer. The engine does the work on the run's checkpoint; this service finds the
 * run's folder and dataset and streams embedding progress as events.
 */
export class InspectService {
  private readonly jobs = new Map<string, AbortController>()
  private topJob: AbortController | null = null

  constructor(
    private readonly engine: EngineSupervisor,
    private readonly runs: RunStore,
    private readonly datasets: DatasetResolver,
    private readonly emit: EventSink
  ) {}

  private async context(runId: string): Promise<{ runDir: string; dataset: DatasetSource }> {
    const record = await this.runs.read(runId)
    return { runDir: this.runs.dir(runId), dataset: await this.datasets.resolve(record.dataset) }
  }

  async predict(req: ParsedRequestOf<'inspect:predict'>): Promise<ResponseOf<'inspect:predict'>> {
    const { runDir, dataset } = await this.context(req.runId)
    const r = await this.engine.call('inspect:predict', { runDir, input: { kind: 'pixels', pixels: req.pixels } }, enginePrediction)
    return { ...r, classes: dataset.classes }
  }

  async activations(req: ParsedRequestOf<'inspect:activations'>): Promise<ResponseOf<'inspect:activations'>> {
    const { runDir, dataset } = await this.context(req.runId)
    const input = req.input.kind === 'test' ? { ...req.input, dataset } : req.input
    const r = await this.engine.call('inspect:activations', { runDir, input }, engineActivations)
    return { ...r, classes: dataset.classes }
  }

  async saliency(req: ParsedRequestOf<'inspect:saliency'>): Promise<ResponseOf<'inspect:saliency'>> {
    const { runDir, dataset } = await this.context(req.runId)
    const input = req.input.kind === 'test' ? { ...req.input, dataset } : req.input
    const r = await this.engine.call('inspect:saliency', { runDir, input, classIndex: req.classIndex }, engineSaliency)
    return { ...r, classes: dataset.classes }
  }

  /** The run's filters now, or after `epoch` when the run kept a snapshot of it. */
  async filters(runId: string, epoch?: number): Promise<ResponseOf<'inspect:filters'>> {
    const { runDir } = await this.context(runId)
    return this.engine.call('inspect:filters', { runDir, epoch }, filtersSchema)
  }

  /** The test images that activate one channel of a layer most; a newer request cancels an older one. */
  async topImages(req: ParsedRequestOf<'inspect:topImages'>): Promise<ResponseOf<'inspect:topImages'>> {
    const { runDir, dataset } = await this.context(req.runId)
    this.topJob?.abort()
    const controller = new AbortController()
    this.topJob = controller
    try {
      const r = await this.engine.call(
        'inspect:top',
        { runDir, dataset, layer: req.layer, channel: req.channel, images: req.images },
        engineTopImages,
        { signal: controller.signal }
      )
      return { ...r, classes: dataset.classes }
    } finally {
      if (this.topJob === controller) this.topJob = null
    }
  }

  /** Embeds a layer of the run in `runDir` (a folder with run.json and model/), for the CLI too. */
  async embedFolder(
    runDir: string,
    settings: EmbedSettings,
    opts: { onProgress?: (payload: unknown) => void; signal?: AbortSignal } = {}
  ): Promise<EmbedResult & { dataset: string; classes: string[] }> {
    const record = await readRunFolder(runDir)
    const dataset = await this.datasets.resolve(record.dataset)
    if (settings.layer >= record.spec.layers.length) {
      throw new WorkbenchError('BAD_REQUEST', `The model has layers 0 to ${record.spec.layers.length - 1}; there is no layer ${settings.layer}.`)
    }
    const result = await this.engine.call('inspect:embed', { runDir, dataset, ...settings }, embedResultSchema, opts)
    return { ...result, dataset: dataset.name, classes: dataset.classes }
  }

  /** Starts an embedding; progress, layouts and the result arrive as `inspect:embed` events. */
  async embed(req: ParsedRequestOf<'inspect:embed'>): Promise<{ jobId: string }> {
    const { runId, ...settings } = req
    // Fail fast (missing run or checkpoint) before a job exists.
    await this.runs.read(runId)
    // Two maps can be made side by side; a third start cancels the oldest.
    for (const [, job] of [...this.jobs].slice(0, Math.max(0, this.jobs.size - MAX_EMBED_JOBS + 1))) job.abort()
    const jobId = randomUUID()
    const controller = new AbortController()
    this.jobs.set(jobId, controller)
    const send = (e: Omit<EmbedEvent, 'jobId'>): void => this.emit('inspect:embed', { jobId, ...e })
    send({ state: 'running', phase: 'activations', done: 0, total: settings.points })
    this.embedFolder(this.runs.dir(runId), settings, {
      signal: controller.signal,
      onProgress: (p) => send({ state: 'running', ...(p as Omit<EmbedEvent, 'jobId' | 'state'>) })
    })
      .then((result) => send({ state: 'done', result }))
      .catch((err) => {
        const error = toErrorInfo(err)
        send({ state: error.code === 'CANCELLED' ? 'cancelled' : 'failed', error })
      })
      .finally(() => this.jobs.delete(jobId))
    return { jobId }
  }

  async cancelEmbed(jobId: string): Promise<{ ok: true }> {
    const job = this.jobs.get(jobId)
    if (!job) throw new WorkbenchError('NOT_FOUND', 'That embedding is not running any more.')
    job.abort()
    return { ok: true }
  }
}
