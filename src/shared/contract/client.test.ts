import { describe, expect, it } from 'vitest'
import { events, requests, workbenchApi, type Transport } from './api'
import { createApi } from './client'
import { WorkbenchError } from './errors'

/** A transport that answers every request with `reply` and records what was sent. */
function fakeTransport(reply: unknown) {
  const sent: Array<{ channel: string; payload: unknown }> = []
  const listeners = new Map<string, (payload: unknown) => void>()
  const transport: Transport = {
    invoke: async (channel, payload) => {
      sent.push({ channel, payload })
      return reply
    },
    subscribe: (channel, listener) => {
      listeners.set(channel, listener)
      return () => listeners.delete(channel)
    }
  }
  return { transport, sent, listeners }
}

describe('the client API derived from the contract', () => {
  it('reaches every request and event channel, each from one method', () => {
    const methods = Object.values(workbenchApi).flatMap((group) => Object.values(group))
    const requested = methods.filter((m) => m.kind === 'request').map((m) => m.channel)
    const subscribed = methods.filter((m) => m.kind === 'event').map((m) => m.channel)
    expect([...requested].sort()).toEqual(Object.keys(requests).sort())
    expect([...subscribed].sort()).toEqual(Object.keys(events).sort())
  })

  it('builds one function per method of the table', () => {
    const api = createApi(fakeTransport({ ok: true }).transport) as unknown as Record<string, Record<string, unknown>>
    for (const [group, methods] of Object.entries(workbenchApi)) {
      expect(Object.keys(api[group]).sort()).toEqual(Object.keys(methods).sort())
      for (const name of Object.keys(methods)) expect(typeof api[group][name]).toBe('function')
    }
  })

  it('sends a request on its channel and returns the validated reply', async () => {
    const { transport, sent } = fakeTransport({ ok: true })
    const api = createApi(transport)
    await expect(api.training.stop({ runId: 'run-1' })).resolves.toEqual({ ok: true })
    await api.runs.cancelEvaluation({ runId: 'run-1' })
    expect(sent).toEqual([
      { channel: 'training:stop', payload: { runId: 'run-1' } },
      { channel: 'runs:cancelEvaluation', payload: { runId: 'run-1' } }
    ])
  })

  it('sends an empty payload for a request without one and refuses a malformed reply', async () => {
    const { transport, sent } = fakeTransport({ state: 'bogus' })
    const api = createApi(transport)
    const err = await api.engine.status().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WorkbenchError)
    expect((err as WorkbenchError).code).toBe('INTERNAL')
    expect(sent).toEqual([{ channel: 'engine:status', payload: {} }])
  })

  it('subscribes on the event channel, passes valid events and drops malformed ones', () => {
    const { transport, listeners } = fakeTransport(null)
    const api = createApi(transport)
    const seen: unknown[] = []
    const off = api.engine.onStatus((e) => seen.push(e))
    const emit = listeners.get('engine:status')
    expect(emit).toBeDefined()
    emit?.({ state: 'ready', backend: 'cpu' })
    emit?.({ state: 42 })
    expect(seen).toEqual([{ state: 'ready', backend: 'cpu' }])
    off()
    expect(listeners.has('engine:status')).toBe(false)
  })
})
