import type { RunStore } from '../../data/runs/run-store'
import type { EvaluationService } from './evaluation-service'
import type { RunRecord } from '../../shared/contract/types'
import type { Images, ImagesRequest, RunDetails } from '../../shared/contract/runs'
import type { LoadedDataset } from '../../data/datasets/types'
import { WorkbenchError } from '../../shared/contract/errors'

/** What the runs service needs from the dataset registry. */
export interface ImageSource {
  load(ref: string): Promise<LoadedDataset>
}

/** Browsing and curating kept runs: details, name, notes, delete with undo, test images. */
export class RunsService {
  constructor(
    private readonly runs: RunStore,
    private readonly evaluations: EvaluationService,
    private readonly datasets: ImageSource,
    /** The run that is training now, which cannot be deleted. */
    private readonly activeRunId: () => string | null
  ) {}

  async get(runId: string): Promise<RunDetails> {
    const record = await this.runs.read(runId)
    return { record, metrics: await this.runs.readMetrics(runId) }
  }

  rename(runId: string, name: string): Promise<RunRecord> {
    return this.runs.update(runId, { name: name.trim() })
  }

  notes(runId: string, notes: string): Promise<RunRecord> {
    return this.runs.update(runId, { notes })
  }

  /** Moves a run to the trash; `restore` undoes it. */
  async delete(runId: string): Promise<{ ok: true }> {
    if (this.activeRunId() === runId) {
      throw new WorkbenchError('BUSY', 'This run is still training. Stop it before deleting it.')
    }
    this.evaluations.cancel(runId)
    await this.runs.trash(runId)
    return { ok: true }
  }

  restore(runId: string): Promise<RunRecord> {
    return this.runs.restore(runId)
  }

  /** Images of a dataset split picked by index, as raw bytes in base64. */
  async images(req: ImagesRequest): Promise<Images> {
    const ds = await this.datasets.load(req.name)
    const split = ds[req.split]
    const [c, h, w] = ds.shape
    const size = c * h * w
    const bad = req.indices.find((i) => i >= split.count)
    if (bad !== undefined) {
      throw new WorkbenchError(
        'BAD_REQUEST',
        `Image ${bad} does not exist: the ${req.split} split of ${ds.name} has ${split.count} images.`
      )
    }
    const bytes = new Uint8Array(req.indices.length * size)
    req.indices.forEach((index, i) => bytes.set(split.images.subarray(index * size, (index + 1) * size), i * size))
    return {
      shape: ds.shape,
      indices: req.indices,
      labels: req.indices.map((i) => split.labels[i]),
      pixels: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
    }
  }
}
