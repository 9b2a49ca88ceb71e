import { afterAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { crashableEngine, realServices, tempDir, until } from '../../../test/helpers'
import { getPreset } from '../../shared/model/presets'
import { hyperSchema } from '../../shared/hyper'
import { readCheckpoint } from '../../data/runs/run-folder'
import type { EventOf } from '../../shared/contract/api'


// Durability for real: the engine process is killed right after epoch 1's checkpoint is on disk,
// then the run is resumed from that checkpoint with its optimizer state and trained to the end.
describe('resume after the engine was killed', () => {
  const tmp = tempDir()
  const engine = crashableEngine()
  const services = realServices(tmp.dir, engine.launcher)
  afterAll(async () => {
    await services.engine.stop()
    tmp.cleanup()
  })

  it('continues from the next epoch in the same run folder and ends evaluated', async () => {
    const statuses: EventOf<'training:status'>[] = []
    const epochs: number[] = []
    services.setSink((channel, payload) => {
      if (channel === 'training:status') statuses.push(payload as EventOf<'training:status'>)
      if (channel === 'training:epoch') epochs.push((payload as EventOf<'training:epoch'>).epoch)
    })
    const hyper = hyperSchema.parse({ epochs: 3, limit: 600, validationSplit: 0.1, batchSize: 32, backend: 'wasm' })
    const { runId } = await services.training.start({ spec: getPreset('lenet').spec, dataset: 'mnist', hyper })
    const dir = services.runs.dir(runId)
    await until(async () => (await services.runs.read(runId)).epochsDone >= 1)
    engine.crash()
    await until(() => statuses.some((s) => s.status === 'failed'))
    await services.training.whenIdle()
    const crashed = await services.runs.read(runId)
    expect(crashed.status).toBe('failed')
    expect(crashed.error?.code).toBe('ENGINE_CRASHED')
    // The folder is readable after the kill: a whole checkpoint with the optimizer's state.
    const saved = await readCheckpoint(dir)
    expect(saved.epoch).toBeGreaterThanOrEqual(1)
    expect(saved.epoch).toBeLessThan(3)
    expect(saved.optimizer.length).toBe(1 + 2 * saved.weights.length)

    const epochsBefore = epochs.length
    await expect(services.training.resumeRun(runId)).resolves.toEqual({ runId })
    await until(() => statuses.at(-1)?.status === 'completed')
    await services.training.whenIdle()
    const resumedEpochs = epochs.slice(epochsBefore)
    expect(resumedEpochs[0]).toBe(saved.epoch + 1)
    expect(resumedEpochs.at(-1)).toBe(3)

    const record = await services.runs.read(runId)
    expect(record).toMatchObject({ status: 'completed', epochsDone: 3, error: null })
    expect(record.test?.testCount).toBe(10_000)
    const metrics = await services.runs.readMetrics(runId)
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2, 3])
    expect((await readCheckpoint(dir)).epoch).toBe(3)
    const evaluation = await services.evaluations.get(runId)
    expect(evaluation.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(10_000)
    expect(existsSync(join(dir, 'evaluation.json'))).toBe(true)
    expect(JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')).status).toBe('completed')

    // A completed run is not resumable; a run that does not exist says so.
    await expect(services.training.resumeRun(runId)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(services.training.resumeRun('no-such-run')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  }, 240_000)

  it('branches a run from its last checkpoint with a new learning rate, leaving the parent as it was', async () => {
    const statuses: EventOf<'training:status'>[] = []
    const epochs: number[] = []
    services.setSink((channel, payload) => {
      if (channel === 'training:status') statuses.push(payload as EventOf<'training:status'>)
      if (channel === 'training:epoch') epochs.push((payload as EventOf<'training:epoch'>).epoch)
    })
    // A constant rate (no schedule), so the branch's epochs train at exactly the rate it was given.
    const hyper = hyperSchema.parse({ epochs: 1, limit: 600, validationSplit: 0.1, batchSize: 32, backend: 'wasm', schedule: 'none' })
    const { runId: parentId } = await services.training.start({ spec: getPreset('lenet').spec, dataset: 'mnist', hyper })
    await until(() => statuses.at(-1)?.status === 'completed')
    await services.training.whenIdle()
    const parentMetrics = await services.runs.readMetrics(parentId)

    await expect(services.training.branchRun({ runId: parentId, learningRate: 0.0005 })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    const { runId } = await services.training.branchRun({ runId: parentId, learningRate: 0.0005, epochs: 2 })
    expect(runId).not.toBe(parentId)
    await until(() => statuses.at(-1)?.runId === runId && statuses.at(-1)?.status === 'completed')
    await services.training.whenIdle()
    expect(epochs.at(-1)).toBe(2)
    const branch = await services.runs.read(runId)
    expect(branch).toMatchObject({ status: 'completed', epochsDone: 2, branchOf: { runId: parentId, epoch: 1 } })
    expect(branch.hyper).toMatchObject({ learningRate: 0.0005, epochs: 2 })
    const metrics = await services.runs.readMetrics(runId)
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2])
    expect(metrics[0]).toEqual(parentMetrics[0])
    expect(metrics[1].learningRate).toBe(0.0005)
    // The parent keeps its own files.
    expect(await services.runs.readMetrics(parentId)).toEqual(parentMetrics)
    expect((await readCheckpoint(services.runs.dir(parentId))).epoch).toBe(1)
    expect((await services.runs.read(parentId)).status).toBe('completed')
  }, 240_000)
})
