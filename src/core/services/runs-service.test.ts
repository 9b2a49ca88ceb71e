import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { realServices, tempDir } from '../../../test/helpers'
import { getPreset } from '../../shared/model/presets'
import { DEFAULT_HYPER } from '../../shared/hyper'
import type { RunRecord } from '../../shared/contract/types'
import { loadIdxDataset } from '../../data/datasets/idx'
import { TRASH_KEEP_MS } from '../../data/runs/run-store'

const tmp = tempDir('cnnwb-runs-service-')
const services = realServices(tmp.dir)
afterAll(async () => {
  await services.dispose()
  tmp.cleanup()
})
const h = services.handlers

function record(id: string, createdAt: string): RunRecord {
  return {
    id,
    createdAt,
    status: 'completed',
    spec: getPreset('lenet').spec,
    dataset: 'mnist',
    hyper: DEFAULT_HYPER,
    backend: 'wasm',
    params: 106_154,
    epochsDone: 1,
    test: { testAccuracy: 0.9, testLoss: 0.3, testCount: 10_000 },
    error: null
  }
}

describe('runs service', () => {
  it('renames a run and keeps notes in run.json', async () => {
    await services.runs.create(record('r1', '2025-01-01T00:00:00Z'))
    await services.runs.appendMetrics('r1', { epoch: 1, loss: 1, accuracy: 0.5, valLoss: null, valAccuracy: null, seconds: 1, samplesPerSecond: 100 })
    expect(await h['runs:rename']({ runId: 'r1', name: '  small lr  ' })).toMatchObject({ name: 'small lr' })
    await h['runs:notes']({ runId: 'r1', notes: 'first try' })
    const details = await h['runs:get']({ runId: 'r1' })
    expect(details.record).toMatchObject({ name: 'small lr', notes: 'first try' })
    expect(details.metrics).toHaveLength(1)
    expect((await h['runs:list']({}))[0]).toMatchObject({ id: 'r1', name: 'small lr' })
  })

  it('deletes a run into the trash and restores it, files and all', async () => {
    await services.runs.create(record('r2', '2025-01-02T00:00:00Z'))
    await h['runs:delete']({ runId: 'r2' })
    expect((await h['runs:list']({})).map((r) => r.id)).toEqual(['r1'])
    expect(existsSync(services.runs.dir('r2'))).toBe(false)
    await expect(h['runs:get']({ runId: 'r2' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await h['runs:restore']({ runId: 'r2' })).toMatchObject({ id: 'r2' })
    expect((await h['runs:list']({})).map((r) => r.id)).toEqual(['r2', 'r1'])
    await expect(h['runs:restore']({ runId: 'r2' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(h['runs:delete']({ runId: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('empties runs deleted longer ago than the trash keeps them', async () => {
    await services.runs.create(record('old', '2025-01-03T00:00:00Z'))
    await services.runs.create(record('recent', '2025-01-04T00:00:00Z'))
    await h['runs:delete']({ runId: 'old' })
    const longAgo = new Date(Date.now() - TRASH_KEEP_MS - 60_000)
    utimesSync(join(services.runs.trashRoot, 'old'), longAgo, longAgo)
    await h['runs:delete']({ runId: 'recent' })
    await expect(h['runs:restore']({ runId: 'old' })).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await h['runs:restore']({ runId: 'recent' })).toMatchObject({ id: 'recent' })
  })

  it('serves test images by index, byte for byte, and names an index out of range', async () => {
    const source = await services.datasets.resolve('mnist')
    if (source.kind !== 'idx') throw new Error('mnist is IDX')
    const ds = await loadIdxDataset(source)
    const reply = await h['datasets:images']({ name: 'mnist', split: 'test', indices: [0, 9999, 7] })
    expect(reply.shape).toEqual([1, 28, 28])
    expect(reply.labels).toEqual([0, 9999, 7].map((i) => ds.test.labels[i]))
    const bytes = Buffer.from(reply.pixels, 'base64')
    expect(bytes.subarray(784, 1568).equals(Buffer.from(ds.test.images.subarray(9999 * 784, 10_000 * 784)))).toBe(true)
    await expect(h['datasets:images']({ name: 'mnist', split: 'test', indices: [10_000] })).rejects.toMatchObject({
      code: 'BAD_REQUEST'
    })
    expect(existsSync(join(tmp.dir, 'runs', '.trash'))).toBe(true)
  })
})
