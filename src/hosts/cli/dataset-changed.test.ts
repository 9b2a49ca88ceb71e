import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import type { RunRecord } from '../../shared/contract/types'
import { DEFAULT_HYPER } from '../../shared/hyper'
import { getPreset } from '../../shared/model/presets'
import { DatasetHasher } from '../../data/datasets/dataset-hash'
import { writeIdxFolder } from '../../data/datasets/testing/fixtures'
import { realServices, tempDir } from '../../../test/helpers'
import { runRuns } from './commands/runs'
import type { Output } from './output'

const tmp = tempDir('cnnwb-changed-')
afterAll(() => tmp.cleanup())

function record(id: string, datasetHash?: string): RunRecord {
  return {
    id,
    createdAt: new Date().toISOString(),
    status: 'completed',
    spec: getPreset('lenet').spec,
    dataset: 'digits',
    hyper: DEFAULT_HYPER,
    backend: 'wasm',
    params: 106_154,
    epochsDone: 1,
    test: null,
    error: null,
    ...(datasetHash ? { datasetHash } : {})
  }
}

describe('runs:list and a replaced dataset', () => {
  it('marks a run whose recorded dataset hash differs from the data now under that name', async () => {
    const services = realServices(join(tmp.dir, 'data'))
    try {
      const first = await writeIdxFolder(join(tmp.dir, 'first'), { trainCount: 20 })
      await services.datasetService.importPath(first, 'digits')
      const hashNow = await new DatasetHasher().hash(await services.datasets.resolve('digits'))
      await services.runs.create(record('run-same', hashNow))
      await services.runs.create(record('run-old', 'a'.repeat(64)))
      await services.runs.create(record('run-unhashed'))

      const changed = async (): Promise<Record<string, boolean | undefined>> =>
        Object.fromEntries((await services.handlers['runs:list']({})).map((r) => [r.id, r.datasetChanged]))
      expect(await changed()).toEqual({ 'run-same': undefined, 'run-old': true, 'run-unhashed': undefined })

      // Re-imported with other images under the same name: the run trained on the first data is marked.
      const second = await writeIdxFolder(join(tmp.dir, 'second'), { trainCount: 25 })
      await services.datasetService.importPath(second, 'digits', { replace: true })
      expect(await changed()).toEqual({ 'run-same': true, 'run-old': true, 'run-unhashed': undefined })

      // The CLI's `runs` listing marks them too, in text and in --json events.
      const lines: string[] = []
      const events: Array<Record<string, unknown>> = []
      const out: Output = { json: false, event: (e) => events.push(e), text: (l) => lines.push(l), note: () => undefined, error: () => undefined }
      runRuns(await services.handlers['runs:list']({}), out)
      const line = (id: string): string => lines.find((l) => l.startsWith(id)) ?? ''
      expect(line('run-old')).toContain('data changed')
      expect(line('run-unhashed')).not.toContain('data changed')
      expect(events.find((e) => e.id === 'run-same')?.datasetChanged).toBe(true)
      expect(events.find((e) => e.id === 'run-unhashed')?.datasetChanged).toBe(false)
    } finally {
      await services.dispose()
    }
  })
})
