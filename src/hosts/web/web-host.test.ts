import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import { startWebHost, type WebHost } from './web-host'
import { createDispatcher } from '../../core/router'
import { requests } from '../../shared/contract/api'
import { getPreset } from '../../shared/model/presets'
import { DEFAULT_HYPER } from '../../shared/hyper'
import type { Services } from '../../core/services/create-services'
import { realServices, tempDir } from '../../../test/helpers'
import { seededRandom as rng } from '../../shared/random'

const FUZZ_PAYLOADS_PER_CHANNEL = 130


function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 2 ? 7 : 9))
  switch (k) {
    case 0:
      return null
    case 1:
      return r() < 0.5
    case 2:
      return [0, -1, 1e308, -0, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e-12][Math.floor(r() * 8)]
    case 3:
      return ['', 'mnist', '../../etc/passwd', 'lenet', 'x'.repeat(5000), '__proto__', '\u0000', 'NaN'][Math.floor(r() * 8)]
    case 4:
      return Math.floor(r() * 1000) - 500
    case 5:
      return undefined
    case 6:
      return 'constructor'
    case 7:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1))
    default: {
      const keys = ['runId', 'spec', 'dataset', 'hyper', 'layers', 'type', 'filters', '__proto__', 'format', 'input']
      const o: Record<string, unknown> = {}
      for (let i = Math.floor(r() * 4); i > 0; i--) o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1)
      return o
    }
  }
}

/** Mutates one leaf of a valid payload: drop it, retype it, or push it out of range. */
function mutate(value: unknown, r: () => number): unknown {
  if (value === null || typeof value !== 'object') return randomValue(r)
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as object) }
  const keys = Object.keys(copy)
  if (keys.length === 0) return randomValue(r)
  const key = keys[Math.floor(r() * keys.length)]
  const c = copy as Record<string, unknown>
  const roll = r()
  if (roll < 0.2) delete c[key]
  else if (roll < 0.7) c[key] = mutate(c[key], r)
  else c[key] = randomValue(r)
  return copy
}

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
}

describe('web host', () => {
  let host: WebHost
  let services: Services
  const tmp = tempDir()
  const staticDir = join(tmp.dir, 'renderer')

  beforeAll(async () => {
    mkdirSync(staticDir, { recursive: true })
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>ok</title>')
    services = realServices(join(tmp.dir, 'data'))
    host = await startWebHost({ staticDir, dispatch: createDispatcher(services.handlers) })
    services.setSink(host.sink)
  })

  afterAll(async () => {
    await host.close()
    await services.dispose()
    tmp.cleanup()
  })

  it('binds 127.0.0.1 and serves the app only with its token', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/)
    const base = `http://127.0.0.1:${host.port}`
    expect((await fetch(`${base}/`)).status).toBe(403)
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(403)
    const ok = await fetch(host.url)
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-security-policy')).toContain("script-src 'self'")
    const cookie = ok.headers.get('set-cookie')?.split(';')[0] ?? ''
    expect((await fetch(`${base}/index.html`, { headers: { cookie } })).status).toBe(200)
    expect((await fetch(`${base}/../../etc/passwd?token=${host.token}`)).status).toBe(404)
  })

  it('refuses WebSocket upgrades without the token', async () => {
    await expect(connect(`ws://127.0.0.1:${host.port}/ws`)).rejects.toThrow(/403|Unexpected/)
    await expect(connect(`ws://127.0.0.1:${host.port}/ws?token=nope`)).rejects.toThrow()
    const ws = await connect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`)
    ws.close()
  })

  it('answers 1,000+ random and mutated payloads with typed errors; neither process dies', async () => {
    let crashes = 0
    services.engine.onCrash(() => crashes++)
    const ws = await connect(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`)
    const pending = new Map<number, (frame: { ok: boolean; error?: { code: string; message: string } }) => void>()
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data))
      if (frame.type === 'result') pending.get(frame.id)?.(frame)
    })
    let nextId = 1
    const invoke = (channel: string, payload: unknown): Promise<{ ok: boolean; error?: { code: string; message: string } }> =>
      new Promise((resolve) => {
        const id = nextId++
        pending.set(id, resolve)
        ws.send(JSON.stringify({ type: 'invoke', id, channel, payload }))
      })
    const valid: Record<string, unknown> = {
      'training:start': {
        spec: getPreset('lenet').spec,
        dataset: 'mnist',
        hyper: { ...DEFAULT_HYPER, epochs: 1, limit: 64, validationSplit: 0 }
      },
      'training:stop': { runId: 'abc' }
    }
    const r = rng(1234)
    let sent = 0
    let typedErrors = 0
    // Restart would only bounce the engine; it is exercised once at the end instead.
    const channels = Object.keys(requests).filter((c) => c !== 'engine:restart')
    for (const channel of [...channels, 'bogus:channel']) {
      for (let i = 0; i < FUZZ_PAYLOADS_PER_CHANNEL; i++) {
        const payload = i % 2 === 0 ? randomValue(r) : mutate(valid[channel] ?? {}, r)
        const frame = await invoke(channel, payload)
        sent++
        if (!frame.ok) {
          typedErrors++
          expect(typeof frame.error?.code).toBe('string')
          expect(frame.error?.message.length).toBeGreaterThan(5)
          expect(frame.error?.message).not.toMatch(/\n\s+at /)
        }
      }
    }
    // Malformed frames too: not JSON, wrong shape.
    ws.send('{not json')
    ws.send(JSON.stringify({ type: 'nope', id: 'x' }))
    expect(sent).toBeGreaterThanOrEqual(1000)
    expect(typedErrors).toBeGreaterThan(sent / 2)
    await services.training.whenIdle()
    expect(crashes).toBe(0)
    // Both processes still answer.
    expect(await invoke('app:info', {})).toMatchObject({ ok: true })
    const restarted = (await invoke('engine:restart', {})) as unknown as { ok: boolean; value: { state: string } }
    expect(restarted).toMatchObject({ ok: true, value: { state: 'ready' } })
    await expect(services.engine.memory()).resolves.toMatchObject({ numTensors: expect.any(Number) })
    ws.close()
  })
})
