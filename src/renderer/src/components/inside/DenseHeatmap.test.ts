import { describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { mountApp } from '../../testing/mount-app'
import { FakeWorkbench } from '../../testing/fake-workbench'
import ImageCanvas from './ImageCanvas.vue'
import { getPreset } from '../../../../shared/model/presets'
import { hyperSchema } from '../../../../shared/hyper'
import type { RunRecord } from '../../../../shared/contract/types'

const lenetRun = {
  id: 'run-7',
  createdAt: '2026-11-24T12:00:00.000Z',
  status: 'completed',
  spec: getPreset('lenet').spec,
  dataset: 'mnist',
  hyper: hyperSchema.parse({}),
  backend: 'wasm',
  params: 106_154,
  epochsDone: 1,
  test: { testAccuracy: 0.97, testLoss: 0.1, testCount: 10_000 },
  error: null
} as RunRecord

async function openFilters() {
  const api = new FakeWorkbench()
  api.runs.list = async () => [lenetRun]
  const { wrapper } = await mountApp(api)
  await wrapper.get('[data-testid=tab-inside]').trigger('click')
  await flushPromises()
  await wrapper.get('[data-testid=inside-tab-filters]').trigger('click')
  await flushPromises()
  return wrapper
}

describe('dense layer heatmaps in the Filters section', () => {
  it('draws one canvas per dense layer, says when cells are averaged, and reads a hovered cell', async () => {
    const wrapper = await openFilters()
    const canvases = wrapper.findAll('[data-testid=dense-heatmaps] canvas[data-testid=dense-heatmap]')
    expect(canvases).toHaveLength(3)
    expect(canvases.map((c) => c.attributes('aria-label'))).toEqual([
      expect.stringMatching(/^Weights of Layer 6 .*784 inputs by 120 units$/),
      expect.stringMatching(/120 inputs by 84 units/),
      expect.stringMatching(/84 inputs by 10 units/)
    ])
    const first = wrapper.get('[data-testid=dense-heatmap-5]')
    expect(first.get('h3').text()).toMatch(/784 inputs × 120 units/)
    expect(first.get('[data-testid=dense-heatmap-note]').text()).toMatch(/each cell averages 4 × 1 weights/)
    expect(wrapper.get('[data-testid=dense-heatmap-6] [data-testid=dense-heatmap-note]').text()).not.toMatch(/averages/)
    // Each heatmap has the diverging legend, from −absMax to +absMax.
    expect(first.findAll('.legend .mono').map((s) => s.text())).toEqual(['−0.20', '+0.20'])

    // Hover row 2, column 3 of the 120 × 84 layer: input 2, unit 3 (counted from 0), and its weight.
    const second = wrapper.get('[data-testid=dense-heatmap-6]')
    second.findComponent(ImageCanvas).vm.$emit('hover', { x: 3, y: 2 })
    await flushPromises()
    const weight = (Math.cos(2 * 84 + 3) * 0.2).toFixed(4)
    expect(second.get('[data-testid=dense-heatmap-readout]').text()).toBe(`input 2, unit 3: weight ${weight}`)
    // On the averaged layer the readout names the block of inputs it covers.
    first.findComponent(ImageCanvas).vm.$emit('hover', { x: 0, y: 1 })
    await flushPromises()
    expect(first.get('[data-testid=dense-heatmap-readout]').text()).toMatch(/^inputs 4–7, unit 0: mean weight /)
    wrapper.unmount()
  })
})
