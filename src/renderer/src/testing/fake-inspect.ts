import type { WorkbenchApi } from '../../../shared/contract/client'
import type { Activations, EmbedEvent, Filters, PredictionResult, TopImages } from '../../../shared/contract/inspect'

const CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']

/** Probabilities peaked on one class. */
export function peaked(predicted: number, n = 10): number[] {
  return Array.from({ length: n }, (_, i) => (i === predicted ? 0.91 : 0.01))
}

/** Activations shaped like lenet's on one 28×28 image. */
export function fakeActivations(predicted = 3): Activations {
  const maps = (c: number, s: number) => ({
    maps: Array.from({ length: c }, (_, k) => Array.from({ length: s * s }, (_, i) => ((i + k) % 7) / 7)),
    min: Array(c).fill(0),
    max: Array(c).fill(6 / 7)
  })
  const vec = (n: number) => ({ values: Array.from({ length: n }, (_, i) => i / n), min: [0], max: [1] })
  return {
    input: { shape: [1, 28, 28], pixels: Array(784).fill(0.5) },
    label: 3,
    layers: [
      { index: 0, type: 'conv2d', shape: [6, 28, 28], ...maps(6, 28) },
      { index: 1, type: 'maxPool2d', shape: [6, 14, 14], ...maps(6, 14) },
      { index: 2, type: 'conv2d', shape: [16, 14, 14], ...maps(16, 14) },
      { index: 3, type: 'maxPool2d', shape: [16, 7, 7], ...maps(16, 7) },
      { index: 4, type: 'flatten', shape: [784], ...vec(784) },
      { index: 5, type: 'dense', shape: [120], ...vec(120) },
      { index: 6, type: 'dense', shape: [84], ...vec(84) },
      { index: 7, type: 'dense', shape: [10], ...vec(10) }
    ],
    probabilities: peaked(predicted),
    predicted,
    epoch: 1,
    classes: CLASSES
  }
}

/** Filters shaped like lenet's two conv layers and three dense layers. */
export function fakeFilters(): Filters {
  const conv = (index: number, cin: number, cout: number) => ({
    index,
    kernelSize: [3, 3] as [number, number],
    inChannels: cin,
    filters: cout,
    weights: Array.from({ length: cout * cin * 9 }, (_, i) => Math.sin(i) * 0.5),
    absMax: 0.5
  })
  // lenet's dense layers 784 × 120, 120 × 84 and 84 × 10, the first averaged in blocks of 4 inputs.
  const dense = (index: number, inputs: number, units: number, blockRows: number) => {
    const rows = Math.ceil(inputs / blockRows)
    return {
      index,
      inputs,
      units,
      rows,
      cols: units,
      blockRows,
      blockCols: 1,
      values: Array.from({ length: rows * units }, (_, i) => Math.cos(i) * 0.2),
      absMax: 0.2
    }
  }
  return {
    conv: [conv(0, 1, 6), conv(2, 6, 16)],
    dense: null,
    denseLayers: [dense(5, 784, 120, 4), dense(6, 120, 84, 1), dense(7, 84, 10, 1)],
    epoch: 1,
    latestEpoch: 1,
    snapshots: [1]
  }
}

/** The 16 test images that activate one channel most: image k is all k/16 grey. */
export function fakeTopImages(layer = 0, channel = 0): TopImages {
  return {
    layer,
    channel,
    scanned: 1000,
    shape: [1, 28, 28],
    images: Array.from({ length: 16 }, (_, k) => ({ index: 100 + k, label: k % 10, score: 2 - k / 10, pixels: Array(784).fill(k / 16) })),
    classes: CLASSES
  }
}

/** The inspect part of the fake API: replies a test sets, requests it records, events it emits. */
export class FakeInspect {
  readonly calls: Array<{ method: string; request: unknown }> = []
  readonly embedListeners = new Set<(e: EmbedEvent) => void>()
  predictReply: PredictionResult = { probabilities: peaked(7), predicted: 7, label: null, epoch: 1, classes: CLASSES }
  activationsReply: Activations = fakeActivations()
  filtersReply: Filters = fakeFilters()
  /** Replies for requests that name an epoch (the filter history). */
  filtersByEpoch = new Map<number, Filters>()
  error: Error | null = null

  private record<T>(method: string, request: unknown, reply: T): Promise<T> {
    this.calls.push({ method, request })
    return this.error ? Promise.reject(this.error) : Promise.resolve(structuredClone(reply))
  }

  emitEmbed(e: EmbedEvent): void {
    for (const l of this.embedListeners) l(e)
  }

  readonly api: WorkbenchApi['inspect'] = {
    predict: (r) => this.record('predict', r, this.predictReply),
    activations: (r) => this.record('activations', r, this.activationsReply),
    saliency: (r) =>
      this.record('saliency', r, {
        shape: [28, 28] as [number, number],
        values: Array.from({ length: 784 }, (_, i) => (i % 28) / 28),
        max: 27 / 28,
        classIndex: 3,
        label: 3,
        probabilities: peaked(3),
        classes: CLASSES,
        gradCam: { layer: 2, values: Array.from({ length: 784 }, (_, i) => Math.floor(i / 28) / 28), max: 27 / 28 }
      }),
    filters: (r) => this.record('filters', r, (r.epoch !== undefined && this.filtersByEpoch.get(r.epoch)) || this.filtersReply),
    embed: (r) => this.record('embed', r, { jobId: 'job-1' }),
    cancelEmbed: (r) => this.record('cancelEmbed', r, { ok: true as const }),
    topImages: (r) => this.record('topImages', r, fakeTopImages(r.layer, r.channel)),
    onEmbed: (l) => {
      this.embedListeners.add(l)
      return () => {
        this.embedListeners.delete(l)
      }
    }
  }
}
