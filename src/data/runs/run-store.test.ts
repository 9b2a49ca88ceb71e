import { afterAll, describe, expect, it, vi } from 'vitest'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RunStore } from './run-store'
import { getPreset } from '../../shared/model/presets'
import { DEFAULT_HYPER } from '../../shared/hyper'
import type { RunRecord } from '../../shared/contract/types'
import { tempDir } from '../../../test/helpers'

/** When set, opening a file for writing fails as on a full disk. */
const disk = vi.hoisted(() => ({ full: false }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...actual,
    open: (async (...args: Parameters<typeof actual.open>) => {
      if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
      return actual.open(...args)
    }) as typeof actual.open
  }
})

const readFloats = (path: string): number[] => {
  const b = readFileSync(path)
  return Array.from(new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4))
}

const tmp = tempDir('cnnwb-runs-')
afterAll(() => tmp.cleanup())

function record(id: string): RunRecord {
  return {
    id,
    createdAt: new Date().toISOString(),
    status: 'running',
    spec: getPreset('lenet').spec,
    dataset: 'mnist',
    hyper: DEFAULT_HYPER,
    backend: 'wasm',
    params: 106_154,
    epochsDone: 0,
    test: null,
    error: null
  }
}

const weights = (value: number) => [
  { name: 'a/kernel', shape: [2, 3], data: new Float32Array(6).fill(value) },
  { name: 'a/bias', shape: [3], data: new Float32Array(3).fill(value) }
]

describe('run store', () => {
  const store = new RunStore(join(tmp.dir, 'runs'))

  it('keeps run.json, appends metrics and replaces the checkpoint whole', async () => {
    await store.create(record('r1'))
    await store.appendMetrics('r1', { epoch: 1, loss: 1, accuracy: 0.5, valLoss: null, valAccuracy: null, seconds: 1, samplesPerSecond: 10 })
    await store.appendMetrics('r1', { epoch: 2, loss: 0.5, accuracy: 0.7, valLoss: 0.6, valAccuracy: 0.65, seconds: 1, samplesPerSecond: 10 })
    await store.writeCheckpoint('r1', getPreset('lenet').spec, weights(1), 1)
    await store.writeCheckpoint('r1', getPreset('lenet').spec, weights(2), 2)
    const dir = store.dir('r1')
    expect(readdirSync(dir).sort()).toEqual(['metrics.jsonl', 'model', 'run.json'])
    const manifest = JSON.parse(readFileSync(join(dir, 'model/model.json'), 'utf8'))
    expect(manifest.epoch).toBe(2)
    expect(manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual(['a/kernel', 'a/bias'])
    expect(readFloats(join(dir, 'model/weights.bin'))).toEqual(new Array(9).fill(2))
    expect((await store.readMetrics('r1')).map((m) => m.epoch)).toEqual([1, 2])
    expect((await store.list()).map((r) => r.id)).toEqual(['r1'])
  })

  it('skips a metrics line cut by a crash and a damaged run folder', async () => {
    writeFileSync(join(store.dir('r1'), 'metrics.jsonl'), '{"epoch":1,"loss":1}\n{"epoch":2,"lo', { flag: 'w' })
    expect((await store.readMetrics('r1')).length).toBe(1)
    await store.create(record('r2'))
    writeFileSync(join(store.dir('r2'), 'run.json'), '{ damaged')
    expect((await store.list()).map((r) => r.id)).toEqual(['r1'])
  })

  it('a full disk gives a clear error and keeps the previous checkpoint whole', async () => {
    disk.full = true
    try {
      await expect(store.writeCheckpoint('r1', getPreset('lenet').spec, weights(3), 3)).rejects.toMatchObject({
        code: 'IO_ERROR',
        message: expect.stringMatching(/disk is full.*|previous one is kept/)
      })
    } finally {
      disk.full = false
    }
    expect(readFloats(join(store.dir('r1'), 'model/weights.bin'))).toEqual(new Array(9).fill(2))
    expect(readdirSync(store.dir('r1')).sort()).toEqual(['metrics.jsonl', 'model', 'run.json'])
  })
})
