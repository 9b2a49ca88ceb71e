import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { TrainingService } from './training-service'
import { RunStore } from '../../data/runs/run-store'
import { EngineSupervisor, type EngineHandle } from '../engine/supervisor'
import type { DatasetSource } from '../../data/datasets/types'
import { writeIdxFolder } from '../../data/datasets/testing/fixtures'
import { getPreset } from '../../shared/model/presets'
import { DEFAULT_HYPER } from '../../shared/hyper'
import { tempDir } from '../../../test/helpers'

/** An engine that only says hello: these checks must happen before anything reaches it. */
function silentEngine(sent: unknown[]): () => EngineHandle {
  return () => ({
    send: (m) => sent.push(m),
    onMessage: (l) => setImmediate(() => l({ type: 'hello', pid: 1 })),
    onExit: () => undefined,
    kill: () => undefined
  })
}

function idxSource(dir: string, name: string, classes: number, gz: boolean): DatasetSource {
  const f = (n: string): string => join(dir, n + (gz ? '.gz' : ''))
  return {
    kind: 'idx',
    name,
    classes: Array.from({ length: classes }, (_, i) => `c${i}`),
    trainImages: f('train-images-idx3-ubyte'),
    trainLabels: f('train-labels-idx1-ubyte'),
    testImages: f('t10k-images-idx3-ubyte'),
    testLabels: f('t10k-labels-idx1-ubyte')
  }
}

describe('an incompatible model and dataset', () => {
  const tmp = tempDir()
  beforeAll(async () => {
    await writeIdxFolder(join(tmp.dir, 'd32'), { height: 32, width: 32, classCount: 3 })
    await writeIdxFolder(join(tmp.dir, 'd28gz'), { gzip: true, classCount: 3 })
  })
  afterAll(() => tmp.cleanup())

  const start = async (source: DatasetSource, preset = 'lenet') => {
    const sent: unknown[] = []
    const runsDir = join(tmp.dir, `runs-${Math.random().toString(36).slice(2)}`)
    const training = new TrainingService(
      new EngineSupervisor(silentEngine(sent)),
      new RunStore(runsDir),
      { resolve: async () => source },
      () => undefined
    )
    const result = training.start({ spec: getPreset(preset).spec, dataset: source.name, hyper: { ...DEFAULT_HYPER, epochs: 1 } })
    return { result, sent, runsDir }
  }
  const runFolders = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : [])

  it('is refused by main before a run folder exists, in the engine\'s words (input shape)', async () => {
    const { result, sent, runsDir } = await start(idxSource(join(tmp.dir, 'd32'), 'big-digits', 10, false))
    await expect(result).rejects.toMatchObject({
      code: 'INCOMPATIBLE',
      message:
        "The model expects 1 × 28 × 28 input but big-digits has 1 × 32 × 32 images. Change the model's input or pick another dataset."
    })
    expect(runFolders(runsDir)).toEqual([])
    expect(sent.filter((m) => (m as { type: string }).type === 'train')).toEqual([])
  })

  it('is refused for a class count the last layer does not give (gzipped IDX header read too)', async () => {
    const { result, runsDir } = await start(idxSource(join(tmp.dir, 'd28gz'), 'three-classes', 3, true))
    await expect(result).rejects.toMatchObject({
      code: 'INCOMPATIBLE',
      message: 'The last layer gives 10 outputs but three-classes has 3 classes. Set the last dense layer to 3 units.'
    })
    expect(runFolders(runsDir)).toEqual([])
  })

  it('is refused for CIFAR-10 colour images and a grayscale model', async () => {
    const cifar: DatasetSource = { kind: 'cifar10', name: 'cifar-10', classes: Array(10).fill('x'), trainFiles: [], testFiles: [] }
    const { result, runsDir } = await start(cifar)
    await expect(result).rejects.toMatchObject({
      code: 'INCOMPATIBLE',
      message: expect.stringContaining('expects 1 × 28 × 28 input but cifar-10 has 3 × 32 × 32 images')
    })
    expect(runFolders(runsDir)).toEqual([])
  })

  it('still starts a compatible pair, and leaves unreadable headers to the engine', async () => {
    const ok = await start(idxSource(join(tmp.dir, 'd28gz'), 'ten', 10, true))
    await expect(ok.result).resolves.toMatchObject({ runId: expect.any(String) })
    expect(runFolders(ok.runsDir)).toHaveLength(1)
    const missing = await start(idxSource(join(tmp.dir, 'nowhere'), 'gone', 10, false))
    await expect(missing.result).resolves.toMatchObject({ runId: expect.any(String) })
  })
})
