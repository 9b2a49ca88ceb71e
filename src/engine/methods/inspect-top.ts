import { z } from 'zod'
import { runInputNormalizer } from '../run-preprocessing'
import { tf } from '../tf'
import { defineMethod, type EngineMethod } from './types'
import { datasetSourceSchema } from '../../shared/engine-protocol'
import { WorkbenchError } from '../../shared/contract/errors'
import { forwardLayers } from '../inspect/layer-forward'
import type { RunCache } from '../inspect/load-run'
import { MAX_TOP_IMAGES_SCANNED, TOP_IMAGES_SHOWN } from '../../shared/contract/inspect'

/** Images per forward pass while scoring. */
const BATCH_SIZE = 250

export const topParamsSchema = z.object({
  runDir: z.string().min(1),
  dataset: datasetSourceSchema,
  layer: z.number().int().min(0),
  channel: z.number().int().min(0),
  images: z.number().int().min(1).max(MAX_TOP_IMAGES_SCANNED).default(1000)
})

/**
 * `inspect:top`: the test images whose mean activation of one channel (a conv map, or one unit
 * of a vector layer) is highest among the first `images`, best first.
 */
export function topMethod(cache: RunCache): EngineMethod {
  return defineMethod(topParamsSchema, async (p, ctx) => {
    const run = await cache.get(p.runDir)
    if (p.layer >= run.spec.layers.length) {
      throw new WorkbenchError('BAD_REQUEST', `The model has layers 0 to ${run.spec.layers.length - 1}; there is no layer ${p.layer}.`)
    }
    const ds = await ctx.loadDataset(p.dataset)
    const [c, h, w] = ds.shape
    const { channels, height, width } = run.spec.input
    if (c !== channels || h !== height || w !== width) {
      throw new WorkbenchError('INCOMPATIBLE', `The model takes ${channels} × ${height} × ${width} images but ${ds.name} has ${c} × ${h} × ${w}.`)
    }
    const normalize = await runInputNormalizer(p.runDir, ds.shape)
    const n = Math.min(p.images, ds.test.count)
    const size = c * h * w
    const scores = new Float32Array(n)
    for (let start = 0; start < n; start += BATCH_SIZE) {
      if (ctx.signal.aborted) throw new WorkbenchError('CANCELLED', 'The search for top images was cancelled.')
      const count = Math.min(BATCH_SIZE, n - start)
      const out = tf.tidy(() => {
        const floats = Float32Array.from(ds.test.images.subarray(start * size, (start + count) * size), (v) => v / 255)
        const x = tf.tensor4d(normalize(floats), [count, h, w, c])
        const y = forwardLayers(run.spec, run.model, x, p.layer)[p.layer]
        const width = y.shape[y.rank - 1] as number
        if (p.channel >= width) {
          throw new WorkbenchError('BAD_REQUEST', `Layer ${p.layer} has channels 0 to ${width - 1}; there is no channel ${p.channel}.`)
        }
        const picked = tf.gather(y, [p.channel], y.rank - 1)
        return tf.reshape(tf.mean(tf.reshape(picked, [count, -1]), 1), [count])
      })
      scores.set((await out.data()) as Float32Array, start)
      out.dispose()
      ctx.progress({ done: start + count, total: n })
      await new Promise((r) => setImmediate(r))
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b)
    const images = order.slice(0, TOP_IMAGES_SHOWN).map((index) => {
      const hwc = ds.test.images.subarray(index * size, (index + 1) * size)
      const pixels = new Array<number>(size)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) pixels[k * h * w + y * w + x] = hwc[(y * w + x) * c + k] / 255
      return { index, label: ds.test.labels[index], score: scores[index], pixels }
    })
    return { layer: p.layer, channel: p.channel, scanned: n, shape: [c, h, w], images }
  })
}
