import { z } from 'zod'
import { runInputNormalizer } from '../run-preprocessing'
import { tf } from '../tf'
import { defineMethod, type EngineMethod, type MethodContext } from './types'
import { datasetSourceSchema } from '../../shared/engine-protocol'
import { WorkbenchError } from '../../shared/contract/errors'
import { pca } from '../embeddings/pca'
import { Tsne } from '../embeddings/tsne'
import { neighbourAgreement } from '../embeddings/quality'
import { forwardLayers } from '../inspect/layer-forward'
import type { RunCache } from '../inspect/load-run'
import { MAX_EMBED_POINTS } from '../../shared/contract/inspect'
/** Dimensions t-SNE works in: wider layers are first reduced by PCA, as is standard. */
const TSNE_INPUT_DIMS = 50
/** Images per forward pass while collecting a layer's outputs. */
const BATCH_SIZE = 250
/** Intermediate layouts are sent at most this often (about five a second). */
const FRAME_INTERVAL_MS = 200
/** How often a long loop yields, so a cancel message gets through. */
const YIELD_INTERVAL_MS = 50

export const embedParamsSchema = z.object({
  runDir: z.string().min(1),
  dataset: datasetSourceSchema,
  /** Index into spec.layers; -1 embeds the raw input pixels. */
  layer: z.number().int().min(-1),
  method: z.enum(['tsne', 'pca']).default('tsne'),
  points: z.number().int().min(10).max(MAX_EMBED_POINTS).default(2000),
  perplexity: z.number().min(2).max(100).default(30),
  iterations: z.number().int().min(50).max(5000).default(1000)
})

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r))

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new WorkbenchError('CANCELLED', 'The embedding was cancelled.')
}

const toPairs = (flat: ArrayLike<number>, n: number): number[][] =>
  Array.from({ length: n }, (_, i) => [flat[2 * i], flat[2 * i + 1]])

/** A layer's outputs for the first n test images, flattened to n × d. */
async function layerOutputs(
  cache: RunCache,
  p: z.infer<typeof embedParamsSchema>,
  ctx: MethodContext
): Promise<{ data: Float32Array; n: number; d: number; labels: number[] }> {
  const run = await cache.get(p.runDir)
  if (p.layer >= run.spec.layers.length) {
    throw new WorkbenchError('BAD_REQUEST', `The model has layers 0 to ${run.spec.layers.length - 1}; there is no layer ${p.layer}.`)
  }
  const ds = await ctx.loadDataset(p.dataset)
  const [c, h, w] = ds.shape
  const normalize = await runInputNormalizer(p.runDir, ds.shape)
  const { channels, height, width } = run.spec.input
  if (c !== channels || h !== height || w !== width) {
    throw new WorkbenchError('INCOMPATIBLE', `The model takes ${channels} × ${height} × ${width} images but ${ds.name} has ${c} × ${h} × ${w}.`)
  }
  const n = Math.min(p.points, ds.test.count)
  const size = c * h * w
  let data: Float32Array | null = null
  let d = 0
  let last = Date.now()
  for (let start = 0; start < n; start += BATCH_SIZE) {
    throwIfCancelled(ctx.signal)
    const count = Math.min(BATCH_SIZE, n - start)
    const out = tf.tidy(() => {
      const floats = Float32Array.from(ds.test.images.subarray(start * size, (start + count) * size), (v) => v / 255)
      const x = tf.tensor4d(normalize(floats), [count, h, w, c])
      if (p.layer < 0) return tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [count, -1])
      const y = forwardLayers(run.spec, run.model, x, p.layer)[p.layer]
      return y.rank === 4 ? tf.reshape(tf.transpose(y, [0, 3, 1, 2]), [count, -1]) : tf.reshape(y, [count, -1])
    })
    const values = (await out.data()) as Float32Array
    d = out.shape[1] as number
    out.dispose()
    data ??= new Float32Array(n * d)
    data.set(values, start * d)
    if (Date.now() - last > FRAME_INTERVAL_MS) {
      ctx.progress({ phase: 'activations', done: start + count, total: n })
      last = Date.now()
    }
    await yieldNow()
  }
  return { data: data ?? new Float32Array(0), n, d, labels: Array.from(ds.test.labels.subarray(0, n)) }
}

/** `inspect:embed`: a 2-D map of one layer's outputs on test images, by t-SNE or PCA. */
export function embedMethod(cache: RunCache): EngineMethod {
  return defineMethod(embedParamsSchema, async (p, ctx) => {
    const started = Date.now()
    const { data, n, d, labels } = await layerOutputs(cache, p, ctx)
    let points: number[][]
    let explainedVariance: number[] | undefined
    if (p.method === 'pca') {
      const r = pca(data, n, d, 2)
      points = toPairs(r.projected, n)
      explainedVariance = r.explainedVariance
    } else {
      ctx.progress({ phase: 'neighbours', done: 0, total: p.iterations, labels })
      const reduced = d > TSNE_INPUT_DIMS ? pca(data, n, d, TSNE_INPUT_DIMS) : null
      await yieldNow()
      throwIfCancelled(ctx.signal)
      const tsne = new Tsne(reduced ? reduced.projected : data, n, reduced ? TSNE_INPUT_DIMS : d, { perplexity: p.perplexity })
      let lastFrame = Date.now()
      let lastYield = Date.now()
      for (let i = 0; i < p.iterations; i++) {
        tsne.step()
        if (Date.now() - lastYield > YIELD_INTERVAL_MS) {
          await yieldNow()
          throwIfCancelled(ctx.signal)
          lastYield = Date.now()
        }
        if (Date.now() - lastFrame > FRAME_INTERVAL_MS) {
          ctx.progress({ phase: 'optimizing', done: i + 1, total: p.iterations, points: toPairs(tsne.embedding, n) })
          lastFrame = Date.now()
        }
      }
      points = toPairs(tsne.embedding, n)
    }
    const flat = points.flat()
    return {
      points,
      labels,
      layer: p.layer,
      method: p.method,
      dims: d,
      ...(explainedVariance ? { explainedVariance } : {}),
      neighbourAgreement: neighbourAgreement(flat, labels, 10),
      seconds: (Date.now() - started) / 1000
    }
  })
}
