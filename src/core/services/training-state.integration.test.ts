import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { existsSync, readdirSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ENGINE_TS, ROOT, realServices, tempDir, until } from '../../../test/helpers'
import { getPreset } from '../../shared/model/presets'
import { hyperSchema, type HyperInput } from '../../shared/hyper'
import { readCheckpoint } from '../../data/runs/run-folder'
import type { EventOf } from '../../shared/contract/api'
import type { Services } from './create-services'
import { modelSpecSchema, type ModelSpec } from '../../shared/model/spec'

// A disk that fills up on demand: open() of matching paths fails with ENOSPC, as on a full disk.
const disk = vi.hoisted(() => ({ full: null as RegExp | null, opened: 0, failAfter: 0 }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>()
  const open: typeof fs.open = (async (path: Parameters<typeof fs.open>[0], ...rest: unknown[]) => {
    if (disk.full && disk.full.test(String(path)) && ++disk.opened > disk.failAfter) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${String(path)}'`), {
        code: 'ENOSPC',
        errno: -28
      })
    }
    return (fs.open as (...a: unknown[]) => ReturnType<typeof fs.open>)(path, ...rest)
  }) as typeof fs.open
  return { ...fs, default: { ...fs, open }, open }
})


/** A small network, so runs stay short on a loaded machine; what is tested is the bookkeeping. */
const tiny = (): ModelSpec =>
  modelSpecSchema.parse({
    format: getPreset('lenet').spec.format,
    name: 'tiny',
    input: { channels: 1, height: 28, width: 28 },
    layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10 }]
  })
const small = (h: HyperInput = {}) =>
  hyperSchema.parse({ epochs: 3, limit: 300, validationSplit: 0.1, batchSize: 32, backend: 'wasm', ...h })

/** Records every status and epoch event of a services instance. */
function watch(services: Services) {
  const statuses: EventOf<'training:status'>[] = []
  const epochs: EventOf<'training:epoch'>[] = []
  const progress: EventOf<'training:progress'>[] = []
  services.setSink((channel, payload) => {
    if (channel === 'training:status') statuses.push(payload as EventOf<'training:status'>)
    if (channel === 'training:epoch') epochs.push(payload as EventOf<'training:epoch'>)
    if (channel === 'training:progress') progress.push(payload as EventOf<'training:progress'>)
  })
  const last = (runId: string) => statuses.filter((s) => s.runId === runId).at(-1)
  const ended = (runId: string) => ['completed', 'stopped', 'failed'].includes(last(runId)?.status ?? '')
  return { statuses, epochs, progress, last, ended }
}

function runFolders(services: Services): string[] {
  return existsSync(services.runs.root) ? readdirSync(services.runs.root).filter((n) => !n.startsWith('.')) : []
}

describe('training state through the real engine', () => {
  const tmp = tempDir()
  // A short watchdog so a frozen engine is noticed in about a second here.
  const services = realServices(tmp.dir, undefined, { frozenAfterMs: 1_500, heartbeatIntervalMs: 200 })
  afterEach(async () => {
    disk.full = null
    disk.opened = 0
    disk.failAfter = 0
    // A failed test must not leave its run training into the next one.
    const active = services.training.activeRunId
    if (active) await services.training.stop(active).catch(() => undefined)
    await services.training.whenIdle()
  })
  afterAll(async () => {
    await services.engine.stop()
    tmp.cleanup()
  })

  it('two starts at the same moment: exactly one wins, the other is BUSY and leaves no run folder', async () => {
    const w = watch(services)
    const req = { spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 1 }) }
    const results = await Promise.allSettled([services.training.start(req), services.training.start(req)])
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'BUSY' })
    expect(runFolders(services)).toHaveLength(1)
    const { runId } = (won[0] as PromiseFulfilledResult<{ runId: string }>).value
    await until(() => w.ended(runId))
    await services.training.whenIdle()
    expect(w.last(runId)).toMatchObject({ status: 'completed' })
    expect((await services.runs.read(runId)).status).toBe('completed')
  }, 240_000)

  it('an engine restart mid-run fails the run with ENGINE_STOPPED and frees the engine', async () => {
    const w = watch(services)
    const { runId } = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 500 }) })
    await until(() => w.progress.some((p) => p.runId === runId))
    await services.handlers['engine:restart']({} as never)
    await until(() => w.ended(runId))
    expect(w.last(runId)).toMatchObject({ status: 'failed', error: { code: 'ENGINE_STOPPED' } })
    await services.training.whenIdle()
    expect(services.training.activeRunId).toBeNull()
    expect(await services.runs.read(runId)).toMatchObject({ status: 'failed', error: { code: 'ENGINE_STOPPED' } })
    // Stop no longer pretends: the run is not training.
    await expect(services.training.stop(runId)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    // And the next start is not BUSY.
    const next = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 1 }) })
    await until(() => w.ended(next.runId))
    await services.training.whenIdle()
    expect(w.last(next.runId)?.status).toBe('completed')
  }, 240_000)

  it('a frozen engine (SIGSTOP) is noticed by the watchdog, the run fails ENGINE_FROZEN, and resume works', async () => {
    const w = watch(services)
    const engineStates: string[] = []
    const off = services.engine.onStatus((s) => engineStates.push(`${s.state}:${s.message ?? ''}`))
    const { runId } = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 500 }) })
    await until(() => w.epochs.some((e) => e.runId === runId))
    await until(async () => (await services.runs.read(runId)).epochsDone >= 1)
    const pid = services.engine.pid
    expect(pid).toBeTypeOf('number')
    const frozenAt = Date.now()
    process.kill(pid!, 'SIGSTOP')
    await until(() => w.ended(runId), 60_000)
    const noticedMs = Date.now() - frozenAt
    off()
    console.log(`watchdog: frozen engine noticed and the run failed after ${noticedMs} ms (frozenAfterMs 1500)`)
    expect(w.last(runId)).toMatchObject({ status: 'failed', error: { code: 'ENGINE_FROZEN' } })
    expect(w.last(runId)?.error?.message).toMatch(/stopped responding/)
    expect(engineStates.some((s) => s.startsWith('crashed:') && /stopped responding/.test(s))).toBe(true)
    expect(() => process.kill(pid!, 0)).toThrow()
    await services.training.whenIdle()
    const failed = await services.runs.read(runId)
    expect(failed.status).toBe('failed')
    // The lock went with the run; it resumes from its checkpoint on a fresh engine.
    expect(existsSync(join(services.runs.dir(runId), '.lock'))).toBe(false)
    const saved = (await readCheckpoint(services.runs.dir(runId))).epoch
    await services.runs.update(runId, { hyper: { ...failed.hyper, epochs: saved + 1 } })
    await services.training.resumeRun(runId)
    await until(() => w.last(runId)?.status === 'completed')
    await services.training.whenIdle()
    const done = await services.runs.read(runId)
    expect(done.epochsDone).toBe(saved + 1)
    expect((await services.runs.readMetrics(runId)).map((m) => m.epoch)).toEqual(
      Array.from({ length: done.epochsDone }, (_, i) => i + 1)
    )
  }, 240_000)

  it('a stop mid-epoch keeps the partial epoch out of the run, and resume trains that epoch again', async () => {
    const w = watch(services)
    // Long epochs of tiny batches: the stop lands thousands of batches before the epoch's end.
    const hyper = small({ epochs: 2, limit: 12_000, batchSize: 4, validationSplit: 0.05 })
    const { runId } = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper })
    // Epoch 2's first progress comes at its first batch of 3,000: stop there.
    await until(() => w.progress.some((p) => p.runId === runId && p.epoch === 2))
    await services.training.stop(runId)
    await until(() => w.ended(runId))
    await services.training.whenIdle()
    const end = w.last(runId)
    expect(end?.status).toBe('stopped')
    expect(end?.note).toMatch(/Stopped in epoch 2 after \d+ of 3000 batches/)
    const record = await services.runs.read(runId)
    expect(record.epochsDone).toBe(1)
    expect((await services.runs.readMetrics(runId)).map((m) => m.epoch)).toEqual([1])
    const dir = services.runs.dir(runId)
    expect((await readCheckpoint(dir)).epoch).toBe(1)
    // The reported test score is the saved model's: the evaluation of the checkpoint agrees.
    const evaluation = await services.evaluations.get(runId)
    expect(evaluation.epoch).toBe(1)
    expect(record.test?.testAccuracy).toBe(evaluation.testAccuracy)

    await services.training.resumeRun(runId)
    await until(() => w.last(runId)?.status === 'completed')
    await services.training.whenIdle()
    expect((await services.runs.readMetrics(runId)).map((m) => m.epoch)).toEqual([1, 2])
    expect((await readCheckpoint(dir)).epoch).toBe(2)
    expect((await services.runs.read(runId)).epochsDone).toBe(2)
  }, 240_000)

  it('a full disk at a checkpoint fails the run with IO_ERROR saying the space needed; disk and record agree', async () => {
    const w = watch(services)
    const { runId } = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 4 }) })
    // Epoch 1's checkpoint is written; epoch 2's finds the disk full.
    disk.failAfter = 1
    disk.full = /weights\.bin/
    await until(() => w.ended(runId))
    await services.training.whenIdle()
    disk.full = null
    const end = w.last(runId)
    expect(end).toMatchObject({ status: 'failed', error: { code: 'IO_ERROR' } })
    expect(end?.error?.message).toMatch(/is full.*needs about [\d.]+ MB/)
    const record = await services.runs.read(runId)
    expect(record.status).toBe('failed')
    expect(record.test).toBeNull()
    const dir = services.runs.dir(runId)
    const saved = (await readCheckpoint(dir)).epoch
    expect(saved).toBe(1)
    expect(record.epochsDone).toBe(saved)
    expect((await services.runs.readMetrics(runId)).map((m) => m.epoch)).toEqual(
      Array.from({ length: saved }, (_, i) => i + 1)
    )
    expect(existsSync(join(dir, 'evaluation.json'))).toBe(false)
    expect(existsSync(join(dir, 'model.next'))).toBe(false)
  }, 240_000)

  it('a full disk at the first write leaves no run folder behind', async () => {
    const before = runFolders(services)
    disk.full = /run\.json/
    try {
      await expect(
        services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 1 }) })
      ).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/disk is full/) })
    } finally {
      disk.full = null
    }
    expect(runFolders(services)).toEqual(before)
    expect(services.training.activeRunId).toBeNull()
  })

  it('one writer per run folder: a live holder gives RUN_LOCKED, a dead one is taken over', async () => {
    const w = watch(services)
    // A run of this app's, stopped after one epoch.
    const { runId } = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 2 }) })
    await until(() => w.ended(runId))
    await services.training.whenIdle()
    const dir = services.runs.dir(runId)
    await services.runs.update(runId, { status: 'stopped', hyper: { ...(await services.runs.read(runId)).hyper, epochs: 3 } })
    // Another live process holds it (as a CLI training it would).
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    try {
      const lock = { pid: holder.pid, host: hostname(), startedAt: new Date().toISOString(), purpose: 'training' }
      await writeFile(join(dir, '.lock'), JSON.stringify(lock))
      await expect(services.training.resumeRun(runId)).rejects.toMatchObject({
        code: 'RUN_LOCKED',
        message: expect.stringContaining(`process ${holder.pid} has been training it`)
      })
      expect(services.training.activeRunId).toBeNull()
      expect(await services.runs.read(runId)).toMatchObject({ status: 'stopped', epochsDone: 2 })
    } finally {
      holder.kill('SIGKILL')
    }
    await new Promise((r) => holder.once('exit', r))
    // The holder died without cleaning up: its stale lock is taken over.
    expect(JSON.parse(await readFile(join(dir, '.lock'), 'utf8')).pid).toBe(holder.pid)
    await services.training.resumeRun(runId)
    expect(JSON.parse(await readFile(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid)
    await until(() => w.last(runId)?.status === 'completed')
    await services.training.whenIdle()
    expect(existsSync(join(dir, '.lock'))).toBe(false)
    expect((await services.runs.readMetrics(runId)).map((m) => m.epoch)).toEqual([1, 2, 3])
  }, 240_000)

  it('the CLI cannot resume a run this app is training: RUN_LOCKED, and the metrics stay one epoch per line', async () => {
    const w = watch(services)
    const { runId } = await services.training.start({ spec: tiny(), dataset: 'mnist', hyper: small({ epochs: 500 }) })
    await until(() => w.progress.some((p) => p.runId === runId))
    const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src/hosts/cli/main.ts'), 'train', '--resume', services.runs.dir(runId), '--json'],
        { cwd: ROOT, env: { ...process.env, CNN_WORKBENCH_HOME: tmp.dir, CNN_WORKBENCH_ENGINE: ENGINE_TS } }
      )
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      child.on('exit', (code) => resolve({ code, out }))
    })
    expect(cli.code).not.toBe(0)
    expect(cli.out).toMatch(/RUN_LOCKED/)
    expect(cli.out).toContain(`process ${process.pid} has been training it`)
    await services.training.stop(runId)
    await until(() => w.ended(runId))
    await services.training.whenIdle()
    const epochs = (await services.runs.readMetrics(runId)).map((m) => m.epoch)
    expect(epochs).toEqual(Array.from({ length: epochs.length }, (_, i) => i + 1))
  }, 240_000)

  it('refuses a model too large for the backend before creating a run folder, giving figure and limit', async () => {
    const before = runFolders(services)
    const huge = modelSpecSchema.parse({
      ...tiny(),
      layers: [{ type: 'flatten' }, { type: 'dense', units: 200_000 }, { type: 'dense', units: 10 }]
    })
    await expect(
      services.training.start({ spec: huge, dataset: 'mnist', hyper: small({ epochs: 1 }) })
    ).rejects.toMatchObject({
      code: 'MODEL_TOO_LARGE',
      message: expect.stringMatching(/159,000,010 parameters.*needs about [\d.]+ GB.*4\.00 GB heap/)
    })
    expect(runFolders(services)).toEqual(before)
  })
})
