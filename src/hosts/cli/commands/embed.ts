import { resolve } from 'node:path'
import type { Output } from '../output'
import type { Flags } from '../args'
import { stringFlag } from '../args'
import type { Services } from '../../../core/services/create-services'
import { WorkbenchError } from '../../../shared/contract/errors'
import { embedRequestSchema } from '../../../shared/contract/inspect'

export const EMBED_OPTIONS = {
  run: { type: 'string' },
  layer: { type: 'string' },
  method: { type: 'string' },
  points: { type: 'string' },
  perplexity: { type: 'string' },
  iterations: { type: 'string' },
  json: { type: 'boolean' }
} as const

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v))

/** `embed`: a 2-D t-SNE or PCA map of one layer of a trained run, on test images. */
export async function runEmbed(values: Flags['values'], services: Services, out: Output): Promise<void> {
  const runDir = stringFlag(values, 'run')
  const layer = stringFlag(values, 'layer')
  if (!runDir || layer === undefined) {
    throw new WorkbenchError('BAD_REQUEST', 'Usage: cnn-workbench embed --run RUN_DIR --layer INDEX [--method tsne|pca] [--points N] [--json]')
  }
  const parsed = embedRequestSchema.safeParse({
    runId: 'cli',
    layer: num(layer),
    method: stringFlag(values, 'method'),
    points: num(stringFlag(values, 'points')),
    perplexity: num(stringFlag(values, 'perplexity')),
    iterations: num(stringFlag(values, 'iterations'))
  })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new WorkbenchError('BAD_REQUEST', `--${String(issue.path[0])}: ${issue.message}. Fix the flag and run again.`)
  }
  const { runId: _r, ...settings } = parsed.data
  let lastNote = 0
  const r = await services.inspect.embedFolder(resolve(runDir), settings, {
    onProgress: (p) => {
      const e = p as { phase?: string; done?: number; total?: number }
      if (out.json || Date.now() - lastNote < 1000) return
      lastNote = Date.now()
      out.note(`${e.phase ?? ''} ${e.done ?? ''}/${e.total ?? ''}`)
    }
  })
  out.event({ points: r.points, labels: r.labels, layer: r.layer, method: r.method })
  out.text(
    `${r.method === 'tsne' ? 't-SNE' : 'PCA'} of ${r.layer < 0 ? 'the input pixels' : `layer ${r.layer}`} (${r.dims} values) on ${r.points.length} ${r.dataset} test images in ${r.seconds.toFixed(1)} s`
  )
  out.text(`10-nearest-neighbour class agreement in 2-D: ${(r.neighbourAgreement * 100).toFixed(1)} %`)
  if (r.explainedVariance) out.text(`explained variance: ${r.explainedVariance.map((v) => (v * 100).toFixed(1) + ' %').join(', ')}`)
}
