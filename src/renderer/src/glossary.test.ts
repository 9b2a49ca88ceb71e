import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { backendExplanation, formatProbability, GLOSSARY } from './glossary'
import { mountApp } from './testing/mount-app'

let current: VueWrapper | null = null
afterEach(() => {
  current?.unmount()
  current = null
})

describe('plain words', () => {
  it('shows enough digits to tell a near-certain answer from 100 % and the runner-up from 0 %', () => {
    expect(formatProbability(0.99996)).toBe('99.996 %')
    expect(formatProbability(0.00004)).toBe('0.004 %')
    expect(formatProbability(0.734)).toBe('73.4 %')
    expect(formatProbability(1)).toBe('100 %')
  })

  it('explains each engine by name', () => {
    for (const name of ['wasm', 'webgpu', 'tensorflow', 'cpu']) {
      expect(backendExplanation(name)).toBe(GLOSSARY[name as keyof typeof GLOSSARY])
    }
    expect(backendExplanation(null)).toMatch(/engine/)
  })

  it('explains epoch, batch and learning rate on the dashboard, reachable by keyboard', async () => {
    const { wrapper } = await mountApp()
    current = wrapper
    await flushPromises()
    for (const term of ['epoch', 'batch', 'learningRate']) {
      const el = wrapper.get(`[data-testid="term-${term}"]`)
      expect(el.attributes('tabindex')).toBe('0')
      const tip = wrapper.get(`#${el.attributes('aria-describedby')}`)
      expect(tip.attributes('role')).toBe('tooltip')
      expect(tip.text()).toBe(GLOSSARY[term as keyof typeof GLOSSARY])
    }
  })
})
