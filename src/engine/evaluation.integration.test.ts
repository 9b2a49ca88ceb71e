import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { modelFromCheckpoint } from './checkpoint'
import { readCheckpoint } from '../data/runs/run-folder'
import { realServices, tempDir } from '../../test/helpers'
import { getPreset } from '../shared/model/presets'
import { hyperSchema } from '../shared/hyper'
import type { EventOf } from '../shared/contract/api'
import { DEFAULT_RANDOM_PREDICTIONS, MAX_MISCLASSIFIED, evaluationSchema } from '../shared/contract/runs'

// A small run trained through the real services and engine process, then evaluated from disk.
describe('checkpoint loading and test-split evaluation', () => {
  const tmp = tempDir('cnnwb-eval-')
  const services = realServices(tmp.dir)
  const events: Array<{ channel: string; payload: unknown }> = []
  services.setSink((channel, payload) => events.push({ channel, payload }))
  afterAll(async () => {
    await services.dispose()
    tmp.cleanup()
  })

  async function trainSmall(): Promise<string> {
    const hyper = hyperSchema.parse({ epochs: 1, limit: 1000, validationSplit: 0, batchSize: 16 })
    const done = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (events.some((e) => e.channel === 'training:evaluation' && !(e.payload as EventOf<'training:evaluation'>).progress)) {
          clearInterval(timer)
          resolve()
        }
      }, 50)
    })
    const { runId } = await services.training.start({ spec: getPreset('lenet').spec, dataset: 'mnist', hyper })
    await done
    return runId
  }

  it('stores an evaluation whose matrix, per-class accuracy and test accuracy agree', async () => {
    const runId = await trainSmall()
    const record = await services.runs.read(runId)
    const evaluationEvents = events.filter((e) => e.channel === 'training:evaluation').map((e) => e.payload as EventOf<'training:evaluation'>)
    // Progress while scoring, then the stored evaluation.
    expect(evaluationEvents.at(-2)?.progress).toEqual({ done: 10_000, total: 10_000 })
    const event = evaluationEvents.at(-1)!
    expect(event.error).toBeUndefined()
    const ev = await services.handlers['runs:evaluation']({ runId })
    expect(ev).toEqual(event.evaluation)
    expect(ev.testCount).toBe(10_000)
    expect(ev.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(10_000)
    ev.confusionMatrix.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0)
      expect(ev.perClassCount[i]).toBe(total)
      expect(ev.perClassAccuracy[i]).toBeCloseTo(row[i] / total, 12)
    })
    // The checkpoint holds the final weights of a completed run: same score as the trainer's.
    expect(ev.testAccuracy).toBeCloseTo(record.test!.testAccuracy, 10)
    expect(ev.testLoss).toBeCloseTo(record.test!.testLoss, 4)
    expect(ev.testAccuracy).toBeGreaterThan(0.7)
    const wrong = ev.labels.filter((l, i) => l !== ev.predictions[i]).length
    expect(ev.misclassifiedCount).toBe(wrong)
    expect(ev.misclassified).toHaveLength(Math.min(wrong, MAX_MISCLASSIFIED))
    for (let i = 1; i < ev.misclassified.length; i++) {
      expect(ev.misclassified[i - 1].confidence).toBeGreaterThanOrEqual(ev.misclassified[i].confidence)
    }
    for (const m of ev.misclassified) {
      expect(m.label).not.toBe(m.predicted)
      expect(m.top).toHaveLength(3)
      expect(m.top[0]).toMatchObject({ classIndex: m.predicted })
    }
    expect(ev.samples).toHaveLength(DEFAULT_RANDOM_PREDICTIONS)
    for (const s of ev.samples) expect(s.correct).toBe(ev.labels[s.index] === ev.predictions[s.index])

    const ckpt = await readCheckpoint(services.runs.dir(runId))
    expect(ckpt.epoch).toBe(1)
    expect(ckpt.spec).toEqual(getPreset('lenet').spec)
    expect(ckpt.weights.reduce((a, w) => a + w.data.length, 0)).toBe(106_154)
  })

  it('runs two evaluations at once in one engine (variable names do not clash)', async () => {
    const runs = await services.runs.list()
    const dataset = await services.datasets.resolve('mnist')
    const call = () =>
      services.engine.call('evaluate', { runId: runs[0].id, runDir: services.runs.dir(runs[0].id), dataset }, evaluationSchema)
    const [a, b] = await Promise.all([call(), call()])
    expect(a.testAccuracy).toBe(b.testAccuracy)
  })

  it('refuses a checkpoint whose weights do not fit the model, naming the weight', async () => {
    const runId = (await services.runs.list())[0].id
    const ckpt = await readCheckpoint(services.runs.dir(runId))
    ckpt.weights[0] = { ...ckpt.weights[0], shape: [5, 5, 1, 6], data: new Float32Array(150) }
    expect(() => modelFromCheckpoint(ckpt)).toThrow(/Weight 1 .* has shape \[5, 5, 1, 6\] but the model needs \[3, 3, 1, 6\]/)
  })

  it('cancels an evaluation in progress with a typed error', async () => {
    const runId = (await services.runs.list())[0].id
    const dataset = await services.datasets.resolve('mnist')
    const abort = new AbortController()
    const call = services.engine.call(
      'evaluate',
      { runId, runDir: services.runs.dir(runId), dataset },
      evaluationSchema,
      { signal: abort.signal, onProgress: () => abort.abort() }
    )
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('says a run without a checkpoint has nothing to evaluate yet', async () => {
    mkdirSync(join(tmp.dir, 'empty-run'))
    const dataset = await services.datasets.resolve('mnist')
    await expect(
      services.engine.call('evaluate', { runId: 'empty-run', runDir: join(tmp.dir, 'empty-run'), dataset }, evaluationSchema)
    ).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})
