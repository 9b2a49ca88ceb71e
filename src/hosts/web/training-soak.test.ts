import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import { startWebHost, type WebHost } from './web-host'
import { createDispatcher } from '../../core/router'
import { getPreset } from '../../shared/model/presets'
import { modelSpecSchema } from '../../shared/model/spec'
import type { Services } from '../../core/services/create-services'
import { realServices, tempDir } from '../../../test/helpers'
import { seededRandom } from '../../shared/random'
import { readCheckpoint } from '../../data/runs/run-folder'
import type { RunRecord } from '../../shared/contract/types'

/** Seeded, so a failure replays: the same 200 actions in the same order. */
const SOAK_SEED = 14
const SOAK_ACTIONS = 200
/** Longest pause between two actions; short, so actions land mid-epoch and mid-start. */
const MAX_GAP_MS = 120

interface Result {
  ok: boolean
  value?: unknown
  error?: { code: string; message: string }
}

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

// Random start/stop/pause/resume/restart/kill through the web host's WebSocket against one engine;
// afterwards every run folder must be finished and agree with itself, and the host must answer.
describe('training soak through the web host', () => {
  let host: WebHost
  let services: Services
  let ws: WebSocket
  const tmp = tempDir()

  beforeAll(async () => {
    const staticDir = join(tmp.dir, 'renderer')
    mkdirSync(staticDir, { recursive: true })
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>ok</title>')
    services = realServices(join(tmp.dir, 'data'))
    host = await startWebHost({ staticDir, dispatch: createDispatcher(services.handlers) })
    services.setSink(host.sink)
    ws = await connect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`)
  })
  afterAll(async () => {
    ws?.close()
    await host?.close()
    await services?.engine.stop()
    tmp.cleanup()
  })

  it(`${SOAK_ACTIONS} seeded random actions leave every run folder terminal and self-consistent`, async () => {
    const pending = new Map<number, (r: Result) => void>()
    let lastStatus: { runId: string; status: string } | null = null
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'result') pending.get(frame.id)?.(frame)
      if (frame.type === 'event' && frame.channel === 'training:status') lastStatus = frame.payload
    })
    let nextId = 1
    const invoke = (channel: string, payload: unknown): Promise<Result> =>
      new Promise((resolve) => {
        const id = nextId++
        pending.set(id, resolve)
        ws.send(JSON.stringify({ type: 'invoke', id, channel, payload }))
      })
    const spec = modelSpecSchema.parse({
      format: getPreset('lenet').spec.format,
      name: 'soak',
      input: { channels: 1, height: 28, width: 28 },
      layers: [{ type: 'flatten' }, { type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 10 }]
    })
    const r = seededRandom(SOAK_SEED)
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
    const counts: Record<string, number> = {}
    const codes: Record<string, number> = {}
    const runIds = new Set<string>()
    const current = (): string | null => services.training.activeRunId ?? lastStatus?.runId ?? null
    const actions = ['start', 'start', 'stop', 'pause', 'resume', 'runs:resume', 'restart', 'kill'] as const

    for (let i = 0; i < SOAK_ACTIONS; i++) {
      const action = pick(actions)
      counts[action] = (counts[action] ?? 0) + 1
      let res: Result | null = null
      switch (action) {
        case 'start': {
          const hyper = { epochs: 1 + Math.floor(r() * 3), limit: 500, batchSize: pick([16, 32, 64]), validationSplit: 0.1, backend: 'wasm' }
          res = await invoke('training:start', { spec, dataset: 'mnist', hyper })
          if (res.ok) runIds.add((res.value as { runId: string }).runId)
          break
        }
        case 'stop':
        case 'pause':
        case 'resume': {
          const id = current()
          if (id) res = await invoke(`training:${action}`, { runId: id })
          break
        }
        case 'runs:resume': {
          const id = runIds.size > 0 ? pick([...runIds]) : null
          if (id) res = await invoke('runs:resume', { runId: id })
          break
        }
        case 'restart':
          res = await invoke('engine:restart', {})
          break
        case 'kill': {
          // From outside, as the OS or a user would.
          const pid = services.engine.pid
          if (pid) process.kill(pid, 'SIGKILL')
          break
        }
      }
      if (res) {
        const code = res.ok ? 'ok' : res.error!.code
        codes[code] = (codes[code] ?? 0) + 1
        // Refusals are fine; a crash of the request path is not.
        expect(code, `${action}: ${res.error?.message}`).not.toBe('INTERNAL')
      }
      await new Promise((done) => setTimeout(done, r() * MAX_GAP_MS))
    }

    // Let the last run finish (stopped) and every after-run evaluation settle.
    const last = services.training.activeRunId
    if (last) await invoke('training:stop', { runId: last })
    await services.training.whenIdle()
    for (const id of runIds) await services.evaluations.get(id).catch(() => null)
    console.log(`soak: ${runIds.size} runs; actions ${JSON.stringify(counts)}; answers ${JSON.stringify(codes)}`)

    const root = services.runs.root
    const folders = readdirSync(root).filter((n) => !n.startsWith('.'))
    expect(folders.sort()).toEqual([...runIds].sort())
    const statuses: Record<string, number> = {}
    for (const id of folders) {
      const dir = join(root, id)
      const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord
      statuses[record.status] = (statuses[record.status] ?? 0) + 1
      expect(['completed', 'stopped', 'failed'], `${id} is ${record.status}`).toContain(record.status)
      expect(existsSync(join(dir, '.lock')), `${id} still locked`).toBe(false)
      const epochs = (await services.runs.readMetrics(id)).map((m: { epoch: number }) => m.epoch)
      expect(epochs, id).toEqual(Array.from({ length: epochs.length }, (_, k) => k + 1))
      expect(record.epochsDone, id).toBe(epochs.length)
      const saved = existsSync(join(dir, 'model', 'model.json')) ? (await readCheckpoint(dir)).epoch : 0
      expect(saved, id).toBe(record.epochsDone)
      if (record.status === 'completed') {
        expect(record.epochsDone).toBe(record.hyper.epochs)
        expect(record.test).not.toBeNull()
      }
      if (record.status === 'failed') expect(record.test).toBeNull()
      if (record.epochsDone === 0) expect(record.test).toBeNull()
      const evaluationPath = join(dir, 'evaluation.json')
      if (record.test && existsSync(evaluationPath)) {
        const evaluation = JSON.parse(readFileSync(evaluationPath, 'utf8'))
        expect(evaluation.epoch, id).toBe(saved)
        expect(evaluation.testAccuracy, id).toBeCloseTo(record.test.testAccuracy, 6)
      }
    }
    console.log(`soak: final run states ${JSON.stringify(statuses)}`)
    expect(await invoke('app:info', {})).toMatchObject({ ok: true })
    const fresh = await invoke('training:start', { spec, dataset: 'mnist', hyper: { epochs: 1, limit: 100, backend: 'wasm' } })
    expect(fresh).toMatchObject({ ok: true })
    await services.training.whenIdle()
  }, 600_000)
})
