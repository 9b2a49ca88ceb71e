import { afterEach, describe, expect, it } from 'vitest'
import { EngineSupervisor } from '../src/core/engine/supervisor'
import { DatasetRegistry } from '../src/data/datasets/registry'
import { getPreset } from '../src/shared/model/presets'
import { hyperSchema } from '../src/shared/hyper'
import type { FromEngine } from '../src/shared/engine-protocol'
import { crashableEngine, tempDir } from './helpers'
import { midEpochCheckBatches, PROGRESS_INTERVAL_MS } from '../src/engine/trainer'

// The engine process driven through its real message protocol, on a small MNIST subset.
describe('engine process', () => {
  const tmp = tempDir()
  const engine = crashableEngine()
  const supervisor = new EngineSupervisor(engine.launcher)
  afterEach(async () => {
    await supervisor.stop()
  })

  async function mnist() {
    return new DatasetRegistry({ dataDir: tmp.dir }).resolve('mnist')
  }

  function collect(runId: string, until: (m: FromEngine) => boolean): Promise<FromEngine[]> {
    const seen: FromEngine[] = []
    return new Promise((resolve) => {
      const off = supervisor.onMessage((m) => {
        if (!('runId' in m) || m.runId !== runId) return
        seen.push(m)
        if (until(m)) {
          off()
          resolve(seen)
        }
      })
    })
  }

  it('trains lenet on 2,000 images, streams throttled progress, and scores the full test set', async () => {
    const dataset = await mnist()
    await supervisor.ensureStarted()
    const before = await supervisor.memory()
    const hyper = hyperSchema.parse({ epochs: 1, limit: 2000, validationSplit: 0.1, batchSize: 16, backend: 'auto' })
    const done = collect('int1', (m) => m.type === 'done' || m.type === 'failed')
    await supervisor.send({ type: 'train', job: { runId: 'int1', spec: getPreset('lenet').spec, hyper, dataset } })
    const messages = await done
    const startedMsg = messages.find((m) => m.type === 'started')
    expect(startedMsg).toMatchObject({ params: 106_154, trainCount: 2000, valCount: 6000, testCount: 10_000 })
    const progress = messages.filter((m) => m.type === 'progress')
    expect(progress.length).toBeGreaterThan(0)
    // Throttled at the source, checked on the engine's own clock rather than this test's wall
    // clock (which flakes under load): a plain report comes at least PROGRESS_INTERVAL_MS after
    // the one before; only mid-epoch validation checks and an epoch's last batch may come sooner.
    for (let i = 1; i < progress.length; i++) {
      const [prev, cur] = [progress[i - 1], progress[i]]
      if (prev.type !== 'progress' || cur.type !== 'progress') continue
      const forced = cur.batch === cur.batchesPerEpoch
      if (forced || midEpochCheckBatches(cur.batchesPerEpoch).has(cur.batch)) continue
      expect(cur.elapsedMs - prev.elapsedMs).toBeGreaterThanOrEqual(PROGRESS_INTERVAL_MS - 1e-6)
    }
    const epoch = messages.find((m) => m.type === 'epoch')
    expect(epoch?.type === 'epoch' && epoch.weights.reduce((a, w) => a + w.data.length, 0)).toBe(106_154)
    const final = messages.at(-1)
    expect(final?.type).toBe('done')
    if (final?.type === 'done') {
      expect(final.test?.testCount).toBe(10_000)
      expect(final.test?.testAccuracy).toBeGreaterThan(0.8)
    }
    // Every tensor of the job is released; only the cached dataset is gone too.
    expect((await supervisor.memory()).numTensors).toBe(before.numTensors)
  })

  it('stops after the current batch and still reports test metrics', async () => {
    const dataset = await mnist()
    const hyper = hyperSchema.parse({ epochs: 5, validationSplit: 0 })
    const done = collect('int2', (m) => m.type === 'done' || m.type === 'failed')
    const firstProgress = collect('int2', (m) => m.type === 'progress')
    await supervisor.send({ type: 'train', job: { runId: 'int2', spec: getPreset('lenet').spec, hyper, dataset } })
    await firstProgress
    await supervisor.send({ type: 'stop', runId: 'int2' })
    const final = (await done).at(-1)
    expect(final).toMatchObject({ type: 'done', status: 'stopped' })
  })

  it('reports a model that does not fit the data as a typed error', async () => {
    const dataset = await mnist()
    const spec = { ...getPreset('lenet').spec, input: { channels: 3, height: 32, width: 32 } }
    const done = collect('int3', (m) => m.type === 'done' || m.type === 'failed')
    await supervisor.send({ type: 'train', job: { runId: 'int3', spec, hyper: hyperSchema.parse({}), dataset } })
    const final = (await done).at(-1)
    expect(final).toMatchObject({ type: 'failed', error: { code: 'INCOMPATIBLE' } })
  })

  it('says so when the engine dies mid-training, and starts again on the next request', async () => {
    const dataset = await mnist()
    const crashed = new Promise<string>((resolve) => supervisor.onCrash(resolve))
    const firstProgress = collect('int4', (m) => m.type === 'progress')
    await supervisor.send({
      type: 'train',
      job: { runId: 'int4', spec: getPreset('lenet').spec, hyper: hyperSchema.parse({ epochs: 3 }), dataset }
    })
    await firstProgress
    engine.crash()
    expect(await crashed).toMatch(/stopped unexpectedly/)
    expect(supervisor.status().state).toBe('crashed')
    await supervisor.ensureStarted()
    expect(supervisor.status().state).toBe('ready')
  })

  it('answers a malformed message with a typed error and keeps running', async () => {
    const handle = await supervisor.ensureStarted()
    const reply = new Promise<FromEngine>((resolve) => {
      const off = supervisor.onMessage((m) => {
        if (m.type === 'error') {
          off()
          resolve(m)
        }
      })
    })
    handle.send({ type: 'train', job: { runId: 'x' } } as never)
    expect(await reply).toMatchObject({ type: 'error', error: { code: 'BAD_REQUEST' } })
    await expect(supervisor.memory()).resolves.toBeTruthy()
  })
})
