import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { tf } from '../tf'
import { buildModel, type BuiltModel } from '../model'
import { WorkbenchError } from '../../shared/contract/errors'
import { parseModelFile } from '../../shared/model/model-file'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'

/** A run's checkpoint read from disk, built into a model on the engine's backend. */
export interface LoadedRun {
  runDir: string
  spec: ModelSpec
  epoch: number
  weights: WeightTensor[]
  model: BuiltModel
  /** model.json's modification time, to notice a newer checkpoint. */
  mtimeMs: number
}

interface ManifestEntry {
  name: string
  shape: number[]
  dtype?: string
}

let loads = 0

/** Reads `<runDir>/model/model.json` and `weights.bin` into typed arrays, checking sizes. */
export async function readRunWeights(runDir: string): Promise<{ spec: ModelSpec; epoch: number; weights: WeightTensor[]; mtimeMs: number }> {
  const dir = join(runDir, 'model')
  let text: string
  let mtimeMs: number
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8')
    mtimeMs = (await stat(join(dir, 'model.json'))).mtimeMs
  } catch {
    throw new WorkbenchError('NOT_FOUND', 'This run has no saved model yet: one is saved after each finished epoch. Train it for at least one epoch.')
  }
  const damaged = (why: string): WorkbenchError =>
    new WorkbenchError('IO_ERROR', `The saved model of this run is damaged (${why}). Train it again.`)
  let json: { epoch?: number; spec?: unknown; weightsManifest?: Array<{ paths: string[]; weights: ManifestEntry[] }> }
  try {
    json = JSON.parse(text)
  } catch {
    throw damaged('model.json is not JSON')
  }
  const spec = parseModelFile(json.spec)
  const weights: WeightTensor[] = []
  for (const group of json.weightsManifest ?? []) {
    const bytes = await readFile(join(dir, group.paths[0] ?? 'weights.bin')).catch(() => {
      throw damaged('weights.bin is missing')
    })
    let offset = 0
    for (const w of group.weights) {
      if (w.dtype !== undefined && w.dtype !== 'float32') throw damaged(`${w.name} is ${w.dtype}`)
      const size = w.shape.reduce((a, b) => a * b, 1)
      if (offset + size * 4 > bytes.byteLength) throw damaged('weights.bin is too short')
      const data = new Float32Array(size)
      new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + size * 4))
      weights.push({ name: w.name, shape: w.shape, data })
      offset += size * 4
    }
  }
  return { spec, epoch: json.epoch ?? 0, weights, mtimeMs }
}

/** Loads a run's checkpoint into a freshly built model, assigning weights by position. */
export async function loadRun(runDir: string): Promise<LoadedRun> {
  const { spec, epoch, weights, mtimeMs } = await readRunWeights(runDir)
  const model = buildModel(spec, 0, `inspect${++loads}`)
  try {
    if (model.variables.length !== weights.length) {
      throw new WorkbenchError('INCOMPATIBLE', `The saved model has ${weights.length} weight tensors but its spec needs ${model.variables.length}.`)
    }
    model.variables.forEach((v, i) => {
      const w = weights[i]
      if (w.shape.length !== v.shape.length || w.shape.some((d, k) => d !== v.shape[k])) {
        throw new WorkbenchError('INCOMPATIBLE', `Weight ${w.name} has shape [${w.shape}] but the model needs [${v.shape}].`)
      }
      tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')))
    })
  } catch (err) {
    model.dispose()
    throw err
  }
  return { runDir, spec, epoch, weights, model, mtimeMs }
}

/** Keeps the last few loaded runs, reloading one whose checkpoint changed on disk. */
export class RunCache {
  private readonly entries = new Map<string, LoadedRun>()
  constructor(private readonly capacity = 2) {}

  async get(runDir: string): Promise<LoadedRun> {
    const hit = this.entries.get(runDir)
    if (hit) {
      const mtime = await stat(join(runDir, 'model', 'model.json')).then((s) => s.mtimeMs).catch(() => -1)
      if (mtime === hit.mtimeMs) {
        this.entries.delete(runDir)
        this.entries.set(runDir, hit)
        return hit
      }
      hit.model.dispose()
      this.entries.delete(runDir)
    }
    const run = await loadRun(runDir)
    this.entries.set(runDir, run)
    while (this.entries.size > this.capacity) {
      const [oldest, entry] = this.entries.entries().next().value as [string, LoadedRun]
      entry.model.dispose()
      this.entries.delete(oldest)
    }
    return run
  }
}
