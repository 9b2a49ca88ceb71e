import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WorkbenchError } from '../../shared/contract/errors'
import { parseModelFile } from '../../shared/model/model-file'
import type { ModelSpec } from '../../shared/model/spec'
import type { WeightTensor } from '../../shared/engine-protocol'

/** Folder of a run that holds its latest checkpoint (see RunStore.writeCheckpoint). */
export const MODEL_DIR = 'model'

/** A checkpoint read from disk: the model's spec, the epoch it was saved after, its weights. */
export interface Checkpoint {
  spec: ModelSpec
  epoch: number
  weights: WeightTensor[]
  /** The optimizer's state after that epoch (step count, moments); empty in older checkpoints. */
  optimizer: WeightTensor[]
}

type ManifestGroup = { paths: string[]; weights: Array<{ name: string; shape: number[]; dtype?: string }> }

interface ManifestFile {
  format?: string
  epoch?: number
  spec?: unknown
  weightsManifest?: ManifestGroup[]
  /** Same form as weightsManifest, in optimizer.bin; tfjs model loaders ignore it. */
  optimizerManifest?: ManifestGroup[]
}

const damaged = (runDir: string, why: string): WorkbenchError =>
  new WorkbenchError('IO_ERROR', `The checkpoint in ${join(runDir, MODEL_DIR)} is damaged (${why}). Train the run again.`)

/** Reads `<runDir>/model/model.json` and its weight files into plain typed arrays. */
export async function readCheckpoint(runDir: string): Promise<Checkpoint> {
  const dir = join(runDir, MODEL_DIR)
  let text: string
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8')
  } catch {
    throw new WorkbenchError(
      'NOT_FOUND',
      'This run has no saved model yet: one is saved after each finished epoch, and the run ' +
        'ended before its first. Train it for at least one epoch.'
    )
  }
  let manifest: ManifestFile
  try {
    manifest = JSON.parse(text) as ManifestFile
  } catch {
    throw damaged(runDir, 'model.json is not valid JSON')
  }
  const spec = parseModelFile(manifest.spec)
  const weights = await readGroups(runDir, manifest.weightsManifest ?? [], 'weights.bin')
  const optimizer = await readGroups(runDir, manifest.optimizerManifest ?? [], 'optimizer.bin')
  return { spec, epoch: manifest.epoch ?? 0, weights, optimizer }
}

async function readGroups(runDir: string, groups: ManifestGroup[], fallback: string): Promise<WeightTensor[]> {
  const dir = join(runDir, MODEL_DIR)
  const weights: WeightTensor[] = []
  for (const group of groups) {
    const bytes = await readFile(join(dir, group.paths[0] ?? fallback)).catch(() => {
      throw damaged(runDir, `${group.paths[0]} is missing`)
    })
    let offset = 0
    for (const w of group.weights) {
      if (w.dtype !== undefined && w.dtype !== 'float32') throw damaged(runDir, `${w.name} is ${w.dtype}`)
      const size = w.shape.reduce((a, b) => a * b, 1)
      if (offset + size * 4 > bytes.byteLength) throw damaged(runDir, `${group.paths[0] ?? fallback} is too short`)
      // Copy out: a Buffer's offset into its pool need not be a multiple of 4.
      const data = new Float32Array(size)
      new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + size * 4))
      weights.push({ name: w.name, shape: w.shape, data })
      offset += size * 4
    }
  }
  return weights
}
