import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { EngineServer } from '../server'
import { METHODS } from '.'
import { defineMethod } from './types'
import type { FromEngine } from '../../shared/engine-protocol'

describe('engine methods', () => {
  it('validates params, streams progress, and replies with typed errors', async () => {
    METHODS['test:echo'] = defineMethod(z.object({ n: z.number().int() }), async (p, ctx) => {
      ctx.progress({ half: p.n / 2 })
      return { twice: p.n * 2 }
    })
    const out: FromEngine[] = []
    const server = new EngineServer((m) => out.push(m))
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50))
    server.handle({ type: 'call', id: 1, method: 'test:echo', params: { n: 4 } })
    server.handle({ type: 'call', id: 2, method: 'test:echo', params: { n: 'x' } })
    server.handle({ type: 'call', id: 3, method: 'nope', params: {} })
    server.handle({ type: 'call', id: 4, method: '__proto__', params: {} })
    for (let i = 0; i < 100 && out.filter((m) => m.type === 'reply').length < 4; i++) await settle()
    expect(out).toContainEqual({ type: 'callProgress', id: 1, payload: { half: 2 } })
    expect(out).toContainEqual({ type: 'reply', id: 1, ok: true, value: { twice: 8 } })
    for (const id of [2, 3, 4]) {
      expect(out.find((m) => m.type === 'reply' && m.id === id)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
    }
    delete METHODS['test:echo']
  })
})
