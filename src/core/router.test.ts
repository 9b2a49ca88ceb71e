import { describe, expect, it } from 'vitest'
import { createDispatcher } from './router'
import { WorkbenchError } from '../shared/contract/errors'
import type { Handlers } from '../shared/contract/api'

const notUsed = async (): Promise<never> => {
  throw new Error('not used')
}
const handlers = {
  'app:info': async () => ({ version: '1', host: 'web', dataDir: '/d' }),
  'datasets:list': async () => [],
  'presets:list': async () => [],
  'engine:status': async () => ({ state: 'ready', backend: 'wasm' }),
  'engine:restart': notUsed,
  'training:start': notUsed,
  'training:stop': async () => {
    throw new WorkbenchError('NOT_FOUND', 'Run x is not training.')
  },
  'runs:list': async () => []
} as unknown as Handlers

describe('dispatcher', () => {
  const dispatch = createDispatcher(handlers)

  it('answers a valid request', async () => {
    expect(await dispatch('engine:status', {})).toEqual({ ok: true, value: { state: 'ready', backend: 'wasm' } })
  })

  it('refuses an unknown channel and a prototype key with a typed error', async () => {
    for (const channel of ['nope', '__proto__', 'constructor', 42, null]) {
      const env = await dispatch(channel, {})
      expect(env).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
    }
  })

  it('validates the payload before any handler runs, naming the field', async () => {
    const env = await dispatch('training:stop', { runId: '../../etc' })
    expect(env.ok).toBe(false)
    if (!env.ok) expect(env.error.message).toMatch(/runId/)
    expect(await dispatch('app:info', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
  })

  it('passes a handler error through as its typed error', async () => {
    expect(await dispatch('training:stop', { runId: 'x' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Run x is not training.' }
    })
  })
})
