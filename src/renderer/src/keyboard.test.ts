import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { mountApp } from './testing/mount-app'

let current: VueWrapper | null = null
const byId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

afterEach(() => {
  current?.unmount()
  current = null
})

async function setup(): Promise<VueWrapper> {
  const { wrapper } = await mountApp()
  current = wrapper
  return wrapper
}

describe('keyboard: one tab stop per group, arrows inside', () => {
  it('the tab strip goes to the last tab with End and the first with Home', async () => {
    const wrapper = await setup()
    await byId(wrapper, 'tab-train').trigger('keydown', { key: 'End' })
    await flushPromises()
    expect(byId(wrapper, 'tab-inside').attributes('aria-selected')).toBe('true')
    expect(document.activeElement?.id).toBe('tab-inside')
    await byId(wrapper, 'tab-inside').trigger('keydown', { key: 'Home' })
    await flushPromises()
    expect(byId(wrapper, 'tab-train').attributes('aria-selected')).toBe('true')
    expect(document.activeElement?.id).toBe('tab-train')
  })

  it('the sample grid is one tab stop; arrows move focus between images', async () => {
    const wrapper = await setup()
    await byId(wrapper, 'tab-data').trigger('click')
    await flushPromises()
    const thumbs = () => wrapper.findAll('[data-testid="sample-thumb"]')
    expect(thumbs().length).toBeGreaterThan(2)
    expect(thumbs().filter((t) => t.attributes('tabindex') === '0')).toHaveLength(1)
    ;(thumbs()[0].element as HTMLElement).focus()
    await thumbs()[0].trigger('keydown', { key: 'ArrowRight' })
    await flushPromises()
    expect(document.activeElement).toBe(thumbs()[1].element)
    expect(thumbs()[1].attributes('tabindex')).toBe('0')
    expect(thumbs()[0].attributes('tabindex')).toBe('-1')
    await thumbs()[1].trigger('keydown', { key: 'End' })
    await flushPromises()
    expect(document.activeElement).toBe(thumbs().at(-1)?.element)
  })

  it('the split radios change split with the arrow keys', async () => {
    const wrapper = await setup()
    await byId(wrapper, 'tab-data').trigger('click')
    await flushPromises()
    expect(byId(wrapper, 'sample-split-train').attributes('aria-checked')).toBe('true')
    expect(byId(wrapper, 'sample-split-test').attributes('tabindex')).toBe('-1')
    await byId(wrapper, 'sample-split-train').trigger('keydown', { key: 'ArrowRight' })
    await flushPromises()
    expect(byId(wrapper, 'sample-split-test').attributes('aria-checked')).toBe('true')
    expect(document.activeElement).toBe(byId(wrapper, 'sample-split-test').element)
  })

  it('the code format radios change format with the arrow keys', async () => {
    const wrapper = await setup()
    await byId(wrapper, 'tab-model').trigger('click')
    await flushPromises()
    const pytorch = byId(wrapper, 'export-pytorch')
    expect(pytorch.attributes('aria-checked')).toBe('true')
    await pytorch.trigger('keydown', { key: 'ArrowRight' })
    await flushPromises()
    expect(byId(wrapper, 'export-keras').attributes('aria-checked')).toBe('true')
  })
})

describe('the drawing pad', () => {
  it('takes focus, draws with arrows and Space, says why a digit cannot be typed, and asks for a readback-friendly canvas', async () => {
    const getContext = vi.spyOn(HTMLCanvasElement.prototype, 'getContext')
    const wrapper = await setup()
    await byId(wrapper, 'tab-inside').trigger('click')
    await flushPromises()
    const pad = byId(wrapper, 'drawing-pad')
    expect(pad.attributes('tabindex')).toBe('0')
    expect(byId(wrapper, 'pad-keys').text()).toContain("can't be typed")
    await pad.trigger('focus')
    await pad.trigger('keydown', { key: ' ' })
    await pad.trigger('keydown', { key: 'ArrowRight' })
    await pad.trigger('keydown', { key: 'ArrowDown' })
    await flushPromises()
    expect(byId(wrapper, 'undo-stroke').attributes('disabled')).toBeUndefined()
    const padCalls = getContext.mock.calls.filter((_, i) => getContext.mock.contexts[i] === pad.element)
    expect(padCalls.length).toBeGreaterThan(0)
    for (const call of padCalls) expect(call[1]).toEqual({ willReadFrequently: true })
    getContext.mockRestore()
  })
})
