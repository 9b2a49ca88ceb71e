import { z } from 'zod'
import { runInputNormalizer } from '../run-preprocessing'
import { tf } from '../tf'
import { defineMethod, type EngineMethod, type MethodContext } from './types'
import { datasetSourceSchema } from '../../shared/engine-protocol'
import { WorkbenchError } from '../../shared/contract/errors'
import { forwardFrom, forwardLayers } from '../inspect/layer-forward'
import { RunCache, type LoadedRun } from '../inspect/load-run'
import { embedMethod } from './inspect-embed'
import { topMethod } from './inspect-top'
import { MAX_INPUT_VALUES } from '../../shared/contract/inspect'
import { readFilterIndex, weightsAtEpoch } from '../inspect/filter-history'
import { denseHeatmap } from '../inspect/dense-heatmap'
import type { DenseHeatmap } from '../../shared/contract/inspect'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'
/** Units of a first dense layer shown as image templates. */
export const MAX_TEMPLATE_UNITS = 64

const runDir = z.string().min(1)
/** A test image by index, or raw pixels (channels × height × width, in [0, 1]). */
export const inspectInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('test'), index: z.number().int().min(0), dataset: datasetSourceSchema }),
  z.object({ kind: z.literal('pixels'), pixels: z.array(z.number().min(0).max(1)).min(1).max(MAX_INPUT_VALUES) })
])

/** The input as an NHWC tensor of one image, with its label when it came from the test split. */
async function inputTensor(
  run: LoadedRun,
  input: z.infer<typeof inspectInputSchema>,
  ctx: MethodContext,
  runDir: string
): Promise<{ x: tf.Tensor4D; pixels: number[]; label: number | null }> {
  const { channels: c, height: h, width: w } = run.spec.input
  const size = c * h * w
  let chw: Float32Array
  let label: number | null = null
  if (input.kind === 'pixels') {
    if (input.pixels.length !== size) {
      throw new WorkbenchError(
        'INCOMPATIBLE',
        `This model takes ${c} × ${h} × ${w} images (${size} values) but got ${input.pixels.length}. The drawing pad makes 1 × 28 × 28 images: train a model on MNIST or Fashion-MNIST to test drawings.`
      )
    }
    chw = Float32Array.from(input.pixels)
  } else {
    const ds = await ctx.loadDataset(input.dataset)
    if (input.index >= ds.test.count) {
      throw new WorkbenchError('BAD_REQUEST', `The test split has images 0 to ${ds.test.count - 1}; there is no image ${input.index}.`)
    }
    if (ds.shape[0] !== c || ds.shape[1] !== h || ds.shape[2] !== w) {
      throw new WorkbenchError('INCOMPATIBLE', `The model takes ${c} × ${h} × ${w} images but ${ds.name} has ${ds.shape.join(' × ')}.`)
    }
    const hwc = ds.test.images.subarray(input.index * size, (input.index + 1) * size)
    chw = new Float32Array(size)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) chw[k * h * w + y * w + x] = hwc[(y * w + x) * c + k] / 255
    label = ds.test.labels[input.index]
  }
  // The model sees its input scaled exactly as in training; `pixels` stays on the 0–1 scale to draw.
  const hwc = new Float32Array(size)
  for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) hwc[p * c + k] = chw[k * h * w + p]
  ;(await runInputNormalizer(runDir, [c, h, w]))(hwc)
  const x = tf.tensor4d(hwc, [1, h, w, c])
  return { x, pixels: Array.from(chw), label }
}

const softmax = (logits: Float32Array): number[] => {
  const m = Math.max(...logits)
  const e = Array.from(logits, (v) => Math.exp(v - m))
  const s = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / s)
}

const argmax = (a: number[]): number => a.reduce((best, v, i) => (v > a[best] ? i : best), 0)

/** One layer's output as the view draws it: per-channel maps (CHW) or a vector. */
async function describeOutput(t: tf.Tensor, index: number, type: string) {
  const data = (await t.data()) as Float32Array
  if (t.rank === 4) {
    const [, h, w, c] = t.shape
    const maps: number[][] = []
    const min: number[] = []
    const max: number[] = []
    for (let k = 0; k < c; k++) {
      const map = new Array<number>(h * w)
      let lo = Infinity
      let hi = -Infinity
      for (let i = 0; i < h * w; i++) {
        const v = data[i * c + k]
        map[i] = v
        if (v < lo) lo = v
        if (v > hi) hi = v
      }
      maps.push(map)
      min.push(lo)
      max.push(hi)
    }
    return { index, type, shape: [c, h, w], maps, min, max }
  }
  const values = Array.from(data)
  return { index, type, shape: [values.length], values, min: [Math.min(...values)], max: [Math.max(...values)] }
}

/**
 * Grad-CAM on the last conv layer: its output maps weighted by the spatial mean of the class
 * score's gradient with respect to each map, summed, ReLU'd and upsampled to the input's size.
 * Null for a model without convolutions.
 */
export function gradCam(run: LoadedRun, x: tf.Tensor4D, classIndex: number): { layer: number; map: tf.Tensor } | null {
  const layer = run.spec.layers.map((l) => l.type).lastIndexOf('conv2d')
  if (layer < 0) return null
  const { height, width } = run.spec.input
  const map = tf.tidy(() => {
    const maps = forwardLayers(run.spec, run.model, x, layer)[layer] as tf.Tensor4D
    const score = (a: tf.Tensor): tf.Scalar => tf.squeeze(tf.slice(forwardFrom(run.spec, run.model, a, layer + 1), [0, classIndex], [1, 1])) as tf.Scalar
    const grads = tf.grad(score)(maps)
    const weights = tf.mean(grads, [1, 2], true)
    const cam = tf.relu(tf.sum(tf.mul(maps, weights), 3, true)) as tf.Tensor4D
    return tf.squeeze(tf.image.resizeBilinear(cam, [height, width]), [0, 3])
  })
  return { layer, map }
}

/** The kernels of every conv layer, a first dense layer's units as image templates, and every dense layer as a heatmap. */
export function describeFilters(spec: ModelSpec, tensors: readonly WeightTensor[]) {
  const conv: Array<{ index: number; kernelSize: [number, number]; inChannels: number; filters: number; weights: number[]; absMax: number }> = []
  let dense: { index: number; shape: [number, number, number]; units: number; shown: number; templates: number[][]; absMax: number } | null = null
  const denseLayers: DenseHeatmap[] = []
  let v = 0
  let onlyFlattenSoFar = true
  spec.layers.forEach((layer, index) => {
    if (layer.type === 'conv2d') {
      const kernel = tensors[v]
      const [kh, kw, cin, cout] = kernel.shape
      // Reorder [kh, kw, cin, cout] to [cout][cin][kh][kw], as PyTorch stores it.
      const weights = new Array<number>(kernel.data.length)
      let absMax = 0
      for (let o = 0; o < cout; o++)
        for (let i = 0; i < cin; i++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++) {
              const value = kernel.data[((y * kw + x) * cin + i) * cout + o]
              weights[((o * cin + i) * kh + y) * kw + x] = value
              absMax = Math.max(absMax, Math.abs(value))
            }
      conv.push({ index, kernelSize: [kh, kw], inChannels: cin, filters: cout, weights, absMax })
    }
    if (layer.type === 'dense') {
      const kernel = tensors[v]
      denseLayers.push(denseHeatmap(index, kernel.data, kernel.shape[0], kernel.shape[1]))
    }
    if (layer.type === 'dense' && onlyFlattenSoFar && dense === null) {
      const kernel = tensors[v]
      const [fanIn, units] = kernel.shape
      const shown = Math.min(units, MAX_TEMPLATE_UNITS)
      const templates: number[][] = []
      let absMax = 0
      for (let u = 0; u < shown; u++) {
        const t = new Array<number>(fanIn)
        for (let i = 0; i < fanIn; i++) {
          t[i] = kernel.data[i * units + u]
          absMax = Math.max(absMax, Math.abs(t[i]))
        }
        templates.push(t)
      }
      const { channels, height, width } = spec.input
      dense = { index, shape: [channels, height, width], units, shown, templates, absMax }
    }
    if (layer.type !== 'flatten' && layer.type !== 'dropout') onlyFlattenSoFar = false
    if (layer.type === 'conv2d' || layer.type === 'dense') v += layer.useBias ? 2 : 1
    if (layer.type === 'batchNorm') v += 4
  })
  return { conv, dense, denseLayers }
}

/** The engine's inspection methods, sharing one cache of loaded runs. */
export function createInspectMethods(cache = new RunCache()): Record<string, EngineMethod> {
  return {
    'inspect:predict': defineMethod(z.object({ runDir, input: inspectInputSchema }), async (p, ctx) => {
      const run = await cache.get(p.runDir)
      const { x, label } = await inputTensor(run, p.input, ctx, p.runDir)
      const logits = tf.tidy(() => run.model.forward(x, false))
      const probabilities = softmax((await logits.data()) as Float32Array)
      tf.dispose([x, logits])
      return { probabilities, predicted: argmax(probabilities), label, epoch: run.epoch }
    }),

    'inspect:activations': defineMethod(z.object({ runDir, input: inspectInputSchema }), async (p, ctx) => {
      const run = await cache.get(p.runDir)
      const { x, pixels, label } = await inputTensor(run, p.input, ctx, p.runDir)
      const outputs = tf.tidy(() => forwardLayers(run.spec, run.model, x))
      try {
        const layers = []
        for (let i = 0; i < outputs.length; i++) layers.push(await describeOutput(outputs[i], i, run.spec.layers[i].type))
        const last = layers[layers.length - 1]
        const probabilities = softmax(Float32Array.from(last.values ?? []))
        const { channels, height, width } = run.spec.input
        return { input: { shape: [channels, height, width], pixels }, label, layers, probabilities, predicted: argmax(probabilities), epoch: run.epoch }
      } finally {
        tf.dispose([x, ...outputs])
      }
    }),

    'inspect:saliency': defineMethod(
      z.object({ runDir, input: inspectInputSchema, classIndex: z.number().int().min(0).optional() }),
      async (p, ctx) => {
        const run = await cache.get(p.runDir)
        const { x, label } = await inputTensor(run, p.input, ctx, p.runDir)
        const logits = tf.tidy(() => run.model.forward(x, false))
        const probabilities = softmax((await logits.data()) as Float32Array)
        logits.dispose()
        const classIndex = p.classIndex ?? argmax(probabilities)
        if (classIndex >= probabilities.length) {
          x.dispose()
          throw new WorkbenchError('BAD_REQUEST', `The model has classes 0 to ${probabilities.length - 1}.`)
        }
        const saliency = tf.tidy(() => {
          const g = tf.grad((input: tf.Tensor) => tf.squeeze(tf.slice(run.model.forward(input, false), [0, classIndex], [1, 1])))(x)
          return tf.max(tf.abs(g), 3)
        })
        const values = Array.from((await saliency.data()) as Float32Array)
        const cam = gradCam(run, x, classIndex)
        const camValues = cam ? Array.from((await cam.map.data()) as Float32Array) : []
        tf.dispose([x, saliency, ...(cam ? [cam.map] : [])])
        const { height, width } = run.spec.input
        return {
          shape: [height, width],
          values,
          max: Math.max(...values),
          classIndex,
          label,
          probabilities,
          gradCam: cam ? { layer: cam.layer, values: camValues, max: Math.max(...camValues) } : null
        }
      }
    ),

    'inspect:filters': defineMethod(
      z.object({ runDir, epoch: z.number().int().min(0).optional() }),
      async (p) => {
        const run = await cache.get(p.runDir)
        const index = await readFilterIndex(p.runDir)
        const snapshots = index?.epochs ?? []
        if (p.epoch === undefined || p.epoch === run.epoch) {
          return { ...describeFilters(run.spec, run.weights), epoch: run.epoch, latestEpoch: run.epoch, snapshots }
        }
        if (!index) {
          throw new WorkbenchError('NOT_FOUND', `This run kept no filters per epoch (it was trained before they were kept); only epoch ${run.epoch} can be shown.`)
        }
        const weights = await weightsAtEpoch(p.runDir, index, p.epoch, run.weights)
        return { ...describeFilters(run.spec, weights), epoch: p.epoch, latestEpoch: run.epoch, snapshots }
      }
    ),

    'inspect:embed': embedMethod(cache),
    'inspect:top': topMethod(cache)
  }
}
