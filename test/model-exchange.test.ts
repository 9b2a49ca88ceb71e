import { afterAll, describe, expect, it } from 'vitest'
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { realServices, runCli, tempDir } from './helpers'
import { RunStore } from '../src/data/runs/run-store'
import { importTrainedFiles, importTrainedModel, TRAINED_FORMAT } from '../src/core/services/model-exchange'
import { WorkbenchError } from '../src/shared/contract/errors'

const home = tempDir('cnnwb-exchange-')
afterAll(() => home.cleanup())

type Manifest = { format: string; classes: string[]; weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[] }> }> }

/** Expects `fn` to fail with a WorkbenchError of this code whose message names `file`. */
async function expectTyped(fn: () => Promise<unknown>, code: string, file: RegExp): Promise<WorkbenchError> {
  const err = await fn().then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(WorkbenchError)
  expect((err as WorkbenchError).code).toBe(code)
  expect((err as WorkbenchError).message).toMatch(file)
  return err as WorkbenchError
}

describe('runs export and runs import: a trained model as TensorFlow.js files', () => {
  const exportDir = join(home.dir, 'exported-lenet')
  let original: { runDir: string; testAccuracy: number }

  it('exports a trained run, imports it as a new run, and the import evaluates to the same test accuracy', async () => {
    const train = runCli(home.dir, ['train', '--preset', 'lenet', '--dataset', 'mnist', '--limit', '500', '--epochs', '1', '--json'])
    expect(train.code).toBe(0)
    original = train.lines.find((l) => l.event === 'done') as typeof original

    const exp = runCli(home.dir, ['runs', 'export', original.runDir, '--out', exportDir, '--json'])
    expect(exp.stderr).toBe('')
    expect(exp.code).toBe(0)
    expect(readdirSync(exportDir).sort()).toEqual(['model.json', 'weights.bin'])
    const manifest = JSON.parse(readFileSync(join(exportDir, 'model.json'), 'utf8')) as Manifest
    expect(manifest.format).toBe(TRAINED_FORMAT)
    expect(manifest.classes).toHaveLength(10)
    expect(manifest.weightsManifest[0].paths).toEqual(['weights.bin'])
    const ckpt = JSON.parse(readFileSync(join(original.runDir, 'model', 'model.json'), 'utf8')) as Manifest
    expect(manifest.weightsManifest[0].weights).toEqual(ckpt.weightsManifest[0].weights.map((w) => ({ ...w, dtype: 'float32' })))
    // The weights leave exactly as the checkpoint holds them.
    expect(readFileSync(join(exportDir, 'weights.bin')).equals(readFileSync(join(original.runDir, 'model', 'weights.bin')))).toBe(true)

    const again = runCli(home.dir, ['runs', 'export', original.runDir, '--out', exportDir, '--json'])
    expect(again.code).toBe(1)
    expect(again.stdout).toContain('not empty')

    const imp = runCli(home.dir, ['runs', 'import', exportDir, '--json'])
    expect(imp.code).toBe(0)
    const imported = imp.lines.find((l) => l.event === 'imported') as { runId: string }
    const list = runCli(home.dir, ['runs', '--json'])
    expect(list.lines.find((l) => l.id === imported.runId)).toMatchObject({ status: 'completed', dataset: 'mnist', params: 106_154, epochsDone: 1 })

    const services = realServices(home.dir)
    try {
      const evaluation = await services.evaluations.get(imported.runId)
      expect(evaluation.testCount).toBe(10_000)
      expect(evaluation.testAccuracy).toBe(original.testAccuracy)
      // The UI path: the same files through runs:export and runs:import.
      const sent = await services.handlers['runs:export']({ runId: imported.runId })
      expect(sent.files.map((f) => f.name)).toEqual(['model.json', 'weights.bin'])
      const record = await services.handlers['runs:import']({ files: sent.files })
      expect(record.status).toBe('completed')
      expect((await services.evaluations.get(record.id)).testAccuracy).toBe(original.testAccuracy)
    } finally {
      await services.dispose()
    }
  })

  describe('a damaged export is refused with a typed error and leaves no run behind', () => {
    const work = tempDir('cnnwb-exchange-bad-')
    afterAll(() => work.cleanup())
    let n = 0
    /** A copy of the good export with one change applied. */
    const variant = (change: (dir: string, manifest: Manifest & Record<string, unknown>) => void): string => {
      const dir = join(work.dir, `case${n++}`)
      cpSync(exportDir, dir, { recursive: true })
      const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Manifest & Record<string, unknown>
      change(dir, manifest)
      if (existsSync(join(dir, 'model.json'))) writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest))
      return dir
    }
    const store = (): RunStore => new RunStore(join(work.dir, 'runs'))
    const expectNoRuns = (): void => {
      expect(existsSync(join(work.dir, 'runs')) ? readdirSync(join(work.dir, 'runs')) : []).toEqual([])
    }

    it('a missing model.json or weights.bin names the file', async () => {
      const noWeights = variant((d) => rmSync(join(d, 'weights.bin')))
      await expectTyped(() => importTrainedModel(store(), noWeights), 'NOT_FOUND', /weights\.bin is missing/)
      await expectTyped(() => importTrainedModel(store(), join(work.dir, 'nowhere')), 'NOT_FOUND', /model\.json is missing/)
      const json = readFileSync(join(noWeights, 'model.json')).toString('base64')
      await expectTyped(() => importTrainedFiles(store(), [{ name: 'model.json', base64: json }]), 'NOT_FOUND', /weights\.bin is missing/)
      expectNoRuns()
    })

    it('a wrong format tag names the field', async () => {
      const dir = variant((_, m) => {
        m.format = 'cnn-workbench.checkpoint/1'
      })
      const err = await expectTyped(() => importTrainedModel(store(), dir), 'INVALID_MODEL', /model\.json: format/)
      expect(err.details).toMatchObject({ field: 'format' })
      expectNoRuns()
    })

    it('truncated weights.bin says so', async () => {
      const dir = variant((d) => {
        const bytes = readFileSync(join(d, 'weights.bin'))
        writeFileSync(join(d, 'weights.bin'), bytes.subarray(0, bytes.byteLength - 4))
      })
      await expectTyped(() => importTrainedModel(store(), dir), 'INVALID_MODEL', /weights\.bin: length: .*truncated/)
      expectNoRuns()
    })

    it('a manifest shape that does not match the spec names the tensor', async () => {
      const dir = variant((_, m) => {
        const [kh, kw, cin, cout] = m.weightsManifest[0].weights[0].shape
        m.weightsManifest[0].weights[0].shape = [kh + 2, kw, cin, cout]
      })
      await expectTyped(() => importTrainedModel(store(), dir), 'INVALID_MODEL', /weightsManifest\.0\.weights\.0\.shape: .*needs \[\d+, \d+, 1, \d+\]/)
      const swapped = variant((_, m) => {
        const w = m.weightsManifest[0].weights
        ;[w[0], w[2]] = [w[2], w[0]]
      })
      await expectTyped(() => importTrainedModel(store(), swapped), 'INVALID_MODEL', /weightsManifest\.0\.weights\.0\.shape/)
      expectNoRuns()
    })

    it('huge sizes are refused before anything is allocated', async () => {
      const dir = variant((_, m) => {
        ;(m as unknown as { spec: { layers: Array<Record<string, unknown>> } }).spec.layers[0].filters = 1_000_000
        const [kh, kw, cin] = m.weightsManifest[0].weights[0].shape
        m.weightsManifest[0].weights[0].shape = [kh, kw, cin, 1_000_000]
      })
      const err = await expectTyped(() => importTrainedModel(store(), dir), 'INVALID_MODEL', /model\.json/)
      expect(err.message).toMatch(/weightsManifest/)
      const notJson = variant(() => undefined)
      writeFileSync(join(notJson, 'model.json'), '{ not json')
      await expectTyped(() => importTrainedModel(store(), notJson), 'INVALID_MODEL', /model\.json: not valid JSON/)
      expectNoRuns()
    })

    it('the CLI reports the typed error and exits 1', () => {
      const dir = variant((_, m) => {
        m.format = 'other'
      })
      const r = runCli(work.dir, ['runs', 'import', dir, '--json'])
      expect(r.code).toBe(1)
      expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'INVALID_MODEL' })
    })
  })
})
