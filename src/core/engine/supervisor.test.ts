import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { z } from 'zod'
import { EngineSupervisor, type EngineHandle } from './supervisor'
import { TrainingService } from '../services/training-service'
import { RunStore } from '../../data/runs/run-store'
import type { ToEngine } from '../../shared/engine-protocol'
import type { DatasetSource } from '../../data/datasets/types'
import { getPreset } from '../../shared/model/presets'
import { DEFAULT_HYPER } from '../../shared/hyper'
import { tempDir } from '../../../test/helpers'

/** An engine that says hello, then answers every message with whatever `reply` returns. */
function fakeEngine(reply: (m: ToEngine) => unknown[]): { launch: () => EngineHandle; received: ToEngine[] } {
  const received: ToEngine[] = []
  const launch = (): EngineHandle => {
    const listeners: Array<(m: unknown) => void> = []
    const emit = (m: unknown): void => listeners.forEach((l) => l(m))
    return {
      send: (m) => {
        received.push(m)
        setImmediate(() => reply(m).forEach(emit))
      },
      onMessage: (l) => {
        listeners.push(l)
        if (listeners.length === 1) setImmediate(() => emit({ type: 'hello', pid: 1 }))
      },
      onExit: () => undefined,
      kill: () => undefined
    }
  }
  return { launch, received }
}

const DATASET: DatasetSource = {
  kind: 'idx',
  name: 'mnist',
  classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  trainImages: 'a',
  trainLabels: 'b',
  testImages: 'c',
  testLabels: 'd'
}

/** Resolves once the run's final status event went out (after its files are written). */
async function ended(events: Array<{ channel: string; payload: unknown }>): Promise<void> {
  const final = (): boolean =>
    events.some((e) => e.channel === 'training:status' && ['failed', 'completed', 'stopped'].includes((e.payload as { status: string }).status))
  // A hang guard, not a speed claim: a run that never ends fails here instead of at the timeout.
  const end = Date.now() + 15_000
  while (!final()) {
    if (Date.now() > end) throw new Error('the run never ended')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('messages from the engine', () => {
  const tmp = tempDir()
  afterAll(() => tmp.cleanup())

  it('fails a call whose reply is malformed with a typed error, instead of resolving a cast', async () => {
    const engine = fakeEngine((m) =>
      m.type === 'call' ? [{ type: 'reply', id: m.id, ok: 'yes', value: { testAccuracy: 1 } }] : []
    )
    const supervisor = new EngineSupervisor(engine.launch)
    await expect(supervisor.call('evaluate', {}, z.unknown())).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/malformed reply message/)
    })
  })

  it('fails a call whose reply value does not match its schema', async () => {
    const engine = fakeEngine((m) => (m.type === 'call' ? [{ type: 'reply', id: m.id, ok: true, value: { testAccuracy: 'high' } }] : []))
    const supervisor = new EngineSupervisor(engine.launch)
    await expect(supervisor.call('evaluate', {}, z.object({ testAccuracy: z.number() }))).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/malformed evaluate reply/)
    })
  })

  it('fails the run, stops the engine job and keeps the run folder consistent on a malformed training message', async () => {
    const bad = [
      { type: 'epoch', metrics: { epoch: 'one' }, weights: 'not weights', optimizer: [] },
      { type: 'started', backend: 'quantum', notes: [], params: 1, trainCount: 1, valCount: 0, testCount: 1, preprocessing: {} },
      { type: 'done', status: 'exploded', test: null },
      { type: 'progress', epoch: 1 }
    ]
    for (const [i, message] of bad.entries()) {
      const engine = fakeEngine((m) => (m.type === 'train' ? [{ ...message, runId: m.job.runId }] : []))
      const supervisor = new EngineSupervisor(engine.launch)
      const runs = new RunStore(join(tmp.dir, `runs-${i}`))
      const events: Array<{ channel: string; payload: unknown }> = []
      const training = new TrainingService(supervisor, runs, { resolve: async () => DATASET }, (channel, payload) =>
        events.push({ channel, payload })
      )
      const { runId } = await training.start({
        spec: getPreset('lenet').spec,
        dataset: 'mnist',
        hyper: { ...DEFAULT_HYPER, epochs: 1 }
      })
      await ended(events)
      const record = await runs.read(runId)
      expect(record.status, JSON.stringify(message)).toBe('failed')
      expect(record.error).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/malformed/) })
      expect(record.epochsDone).toBe(0)
      expect(engine.received).toContainEqual({ type: 'stop', runId })
      expect(events.at(-1)).toMatchObject({ channel: 'training:status', payload: { runId, status: 'failed' } })
    }
  })

  it('fails the active run on a malformed message that names no run', async () => {
    const engine = fakeEngine((m) => (m.type === 'train' ? [{ type: 'epoch', runId: 42 }] : []))
    const supervisor = new EngineSupervisor(engine.launch)
    const runs = new RunStore(join(tmp.dir, 'runs-x'))
    const events: Array<{ channel: string; payload: unknown }> = []
    const training = new TrainingService(supervisor, runs, { resolve: async () => DATASET }, (channel, payload) =>
      events.push({ channel, payload })
    )
    const { runId } = await training.start({ spec: getPreset('lenet').spec, dataset: 'mnist', hyper: { ...DEFAULT_HYPER, epochs: 1 } })
    await ended(events)
    expect((await runs.read(runId)).status).toBe('failed')
  })
})
