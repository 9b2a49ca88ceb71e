import { describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { mountApp } from '../testing/mount-app'
import { FakeWorkbench } from '../testing/fake-workbench'
import { fakeFilters } from '../testing/fake-inspect'
import { getPreset } from '../../../shared/model/presets'
import type { RunRecord } from '../../../shared/contract/types'
import { hyperSchema } from '../../../shared/hyper'

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
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
    error: null,
    ...overrides
  } as RunRecord
}

async function openInside(runs: RunRecord[], setup?: (api: FakeWorkbench) => void) {
  const api = new FakeWorkbench()
  setup?.(api)
  api.runs.list = async () => runs
  const { wrapper } = await mountApp(api)
  await wrapper.get('[data-testid=tab-inside]').trigger('click')
  await flushPromises()
  return { wrapper, api }
}

describe('Inside view', () => {
  it('says clearly when there is no trained run yet, and keeps the playground usable', async () => {
    const { wrapper } = await openInside([run({ status: 'failed', epochsDone: 0 })])
    expect(wrapper.get('[data-testid=inside-no-run]').text()).toMatch(/No trained run yet/)
    await wrapper.get('[data-testid=inside-tab-conv]').trigger('click')
    const kernel = wrapper.get('[data-testid=conv-kernel]')
    await kernel.setValue('1 2 3')
    expect(wrapper.get('[data-testid=conv-error]').text()).toMatch(/9 numbers/)
    wrapper.unmount()
  })

  it('shows every layer of the latest run: 6 maps for lenet’s first conv, and enlarges one on click', async () => {
    const { wrapper, api } = await openInside([run()])
    await wrapper.get('[data-testid=inside-tab-maps]').trigger('click')
    await flushPromises()
    expect(api.inspectFake.calls.find((c) => c.method === 'activations')?.request).toEqual({ runId: 'run-7', input: { kind: 'test', index: 0 } })
    expect(wrapper.findAll('[data-testid=layer-0] [data-testid=feature-map]')).toHaveLength(6)
    expect(wrapper.findAll('[data-testid=layer-2] [data-testid=feature-map]')).toHaveLength(16)
    expect(wrapper.get('[data-testid=maps-predicted]').text()).toBe('3')
    // Dense layers are bar charts with one bar per unit (lenet's 84-unit layer is layer 6).
    const bars = wrapper.get('[data-testid=layer-6] [data-testid=vector-bars]')
    expect(bars.findAll('rect')).toHaveLength(84)
    expect(bars.attributes('aria-label')).toMatch(/84 values from 0\.00 to 0\.99; the largest is unit 83/)
    await wrapper.get('[data-testid=layer-0] [data-testid=feature-map]').trigger('click')
    expect(wrapper.find('[data-testid=enlarged-map]').exists()).toBe(true)
    await wrapper.get('[data-testid=saliency-toggle]').setValue(true)
    await flushPromises()
    expect(api.inspectFake.calls.some((c) => c.method === 'saliency')).toBe(true)
    expect(wrapper.find('[data-testid=saliency-map]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=gradcam-map]').exists()).toBe(true)
    expect(wrapper.get('[data-testid=gradcam-caption]').text()).toMatch(/layer 3/)
    wrapper.unmount()
  })

  it('lays out one kernel per filter and input channel, and shows the numbers of a hovered one', async () => {
    const { wrapper } = await openInside([run()])
    await wrapper.get('[data-testid=inside-tab-filters]').trigger('click')
    await flushPromises()
    expect(wrapper.findAll('[data-testid=filters-layer-0] [data-testid=filter-kernel]')).toHaveLength(6)
    // 16 filters × 6 input channels in the second conv layer.
    expect(wrapper.findAll('[data-testid=filters-layer-2] [data-testid=filter-kernel]')).toHaveLength(96)
    await wrapper.get('[data-testid=filters-layer-0] .kernel').trigger('mouseenter')
    expect(wrapper.get('[data-testid=kernel-zoom]').findAll('td')).toHaveLength(9)
    wrapper.unmount()
  })

  it('lists the test images that activate an enlarged map most, and opens one of them', async () => {
    const { wrapper, api } = await openInside([run()])
    await wrapper.get('[data-testid=inside-tab-maps]').trigger('click')
    await flushPromises()
    await wrapper.findAll('[data-testid=layer-2] [data-testid=feature-map]')[4].trigger('click')
    await wrapper.get('[data-testid=top-find]').trigger('click')
    await flushPromises()
    expect(api.inspectFake.calls.find((c) => c.method === 'topImages')?.request).toEqual({ runId: 'run-7', layer: 2, channel: 4 })
    const images = wrapper.findAll('[data-testid=top-image]')
    expect(images).toHaveLength(16)
    expect(wrapper.get('[data-testid=top-summary]').text()).toMatch(/16 of the first 1,000/)
    await images[3].trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=enlarged-map]').exists()).toBe(false)
    expect(api.inspectFake.calls.at(-1)).toEqual({ method: 'activations', request: { runId: 'run-7', input: { kind: 'test', index: 103 } } })
    wrapper.unmount()
  })

  it('replays the filters epoch by epoch with a slider, keeping the enlarged kernel in view', async () => {
    const latest = { ...fakeFilters(), epoch: 2, latestEpoch: 2, snapshots: [1, 2] }
    const first = structuredClone(latest)
    first.epoch = 1
    first.conv[0].weights = first.conv[0].weights.map((v) => v / 4)
    const { wrapper, api } = await openInside([run({ epochsDone: 2 })], (a) => {
      a.inspectFake.filtersReply = latest
      a.inspectFake.filtersByEpoch.set(1, first)
    })
    await wrapper.get('[data-testid=inside-tab-filters]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid=filters-epoch-label]').text()).toBe('2 / 2')
    await wrapper.get('[data-testid=filters-layer-0] .kernel:nth-of-type(1)').trigger('mouseenter')
    const numbers = () => wrapper.get('[data-testid=kernel-zoom]').findAll('td').map((td) => td.text())
    const at2 = numbers()
    await wrapper.get('[data-testid=filters-epoch]').setValue('0')
    await flushPromises()
    expect(api.inspectFake.calls.at(-1)?.request).toEqual({ runId: 'run-7', epoch: 1 })
    expect(wrapper.get('[data-testid=filters-epoch-label]').text()).toBe('1 / 2')
    const at1 = numbers()
    expect(at1).toHaveLength(9)
    expect(at1).not.toEqual(at2)
    expect(Number(at1[1])).toBeCloseTo(Number(at2[1]) / 4, 2)
    wrapper.unmount()
  })

  it('says how to get a filter history when the run kept only one epoch', async () => {
    const { wrapper } = await openInside([run()])
    await wrapper.get('[data-testid=inside-tab-filters]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=filters-epoch]').exists()).toBe(false)
    expect(wrapper.get('[data-testid=filters-no-history]').text()).toMatch(/after epoch 1/)
    wrapper.unmount()
  })

  it('starts a t-SNE map, draws streamed layouts, shows the result and can cancel', async () => {
    const { wrapper, api } = await openInside([run()])
    await wrapper.get('[data-testid=inside-tab-embed]').trigger('click')
    expect((wrapper.get('[data-testid=embed-layer]').element as HTMLSelectElement).value).toBe('6')
    await wrapper.get('[data-testid=embed-start]').trigger('submit')
    await flushPromises()
    expect(api.inspectFake.calls.find((c) => c.method === 'embed')?.request).toMatchObject({ runId: 'run-7', layer: 6, method: 'tsne', points: 2000 })
    api.inspectFake.emitEmbed({ jobId: 'job-1', state: 'running', phase: 'optimizing', done: 10, total: 1000, points: [[0, 0], [1, 1], [2, 0]] })
    await flushPromises()
    expect(wrapper.get('[data-testid=embed-plot]').attributes('data-points')).toBe('3')
    await wrapper.get('[data-testid=embed-cancel]').trigger('click')
    expect(api.inspectFake.calls.some((c) => c.method === 'cancelEmbed')).toBe(true)
    api.inspectFake.emitEmbed({
      jobId: 'job-1',
      state: 'done',
      result: { points: [[0, 0], [1, 1], [2, 0], [3, 3]], labels: [0, 1, 0, 1], layer: 6, method: 'tsne', dims: 84, neighbourAgreement: 0.93, seconds: 2, dataset: 'mnist', classes: ['0', '1'] }
    })
    await flushPromises()
    expect(wrapper.get('[data-testid=embed-plot]').attributes('data-points')).toBe('4')
    expect(wrapper.get('[data-testid=embed-summary]').text()).toMatch(/4 test images/)
    wrapper.unmount()
  })

  it('puts two maps side by side, each of its own run, and opens a point in the feature-map view', async () => {
    const other = run({ id: 'run-8', spec: getPreset('mlp').spec, createdAt: '2026-11-24T11:00:00.000Z' })
    const { wrapper, api } = await openInside([run(), other])
    await wrapper.get('[data-testid=inside-tab-embed]').trigger('click')
    await wrapper.get('[data-testid=embed-compare]').setValue(true)
    await wrapper.get('[data-testid=embed-b-run]').setValue('run-8')
    await wrapper.get('[data-testid=embed-b-layer]').setValue('1')
    await wrapper.get('[data-testid=embed-b-start]').trigger('submit')
    await flushPromises()
    expect(api.inspectFake.calls.filter((c) => c.method === 'embed').map((c) => c.request)).toEqual([
      expect.objectContaining({ runId: 'run-8', layer: 1 })
    ])
    api.inspectFake.emitEmbed({
      jobId: 'job-1',
      state: 'done',
      result: { points: [[0, 0], [1, 1], [2, 0]], labels: [0, 1, 0], layer: 1, method: 'tsne', dims: 512, neighbourAgreement: 0.9, seconds: 1, dataset: 'mnist', classes: ['0', '1'] }
    })
    await flushPromises()
    // Only the second panel ran: its plot has the points, the first is still empty.
    expect(wrapper.get('[data-testid=embed-b-plot]').attributes('data-points')).toBe('3')
    expect(wrapper.get('[data-testid=embed-plot]').attributes('data-points')).toBe('0')
    const plot = wrapper.get('[data-testid=embed-b-plot]')
    await plot.trigger('keydown', { key: 'ArrowRight' })
    await plot.trigger('keydown', { key: 'ArrowRight' })
    await flushPromises()
    expect(wrapper.get('[data-testid=embed-b-tip]').text()).toMatch(/Test image 1 · 1/)
    await plot.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(wrapper.get('[data-testid=inside-tab-maps]').attributes('aria-selected')).toBe('true')
    expect((wrapper.get('[data-testid=inside-run]').element as HTMLSelectElement).value).toBe('run-8')
    expect(api.inspectFake.calls.filter((c) => c.method === 'activations').at(-1)?.request).toEqual({ runId: 'run-8', input: { kind: 'test', index: 1 } })
    wrapper.unmount()
  })

  it('warns that a CIFAR-sized model cannot read a drawing', async () => {
    const spec = { ...getPreset('cifar-convnet').spec }
    const { wrapper } = await openInside([run({ spec, dataset: 'cifar-10' })])
    expect(wrapper.get('[data-testid=draw-incompatible]').text()).toMatch(/3 × 32 × 32/)
    wrapper.unmount()
  })
})

describe('convolution playground', () => {
  it('works out one output pixel under the keyboard cursor, and after ReLU', async () => {
    const { wrapper } = await openInside([])
    await wrapper.get('[data-testid=inside-tab-conv]').trigger('click')
    const output = wrapper.get('figure.focusable')
    await output.trigger('focus')
    await output.trigger('keydown', { key: 'ArrowRight' })
    const text = wrapper.get('[data-testid=conv-arithmetic]').text()
    expect(text).toMatch(/Output pixel \(14, 13\)/)
    expect(text).toMatch(/Sum = -?\d+\.\d{3}/)
    // The window is outlined on both pictures: 3×3 on the input around (14, 13), one pixel out.
    const k = 140 / 28
    expect(wrapper.get('[data-testid=conv-input-window]').attributes('style')).toContain(`left: ${13 * k}px`)
    expect(wrapper.get('[data-testid=conv-input-window]').attributes('style')).toContain(`width: ${3 * k}px`)
    expect(wrapper.get('[data-testid=conv-output-window]').attributes('style')).toContain(`left: ${14 * k}px`)
    wrapper.unmount()
  })

  it('switches the kernel to Custom when weights are typed, and marks the outputs stale while they are invalid', async () => {
    const { wrapper } = await openInside([])
    await wrapper.get('[data-testid=inside-tab-conv]').trigger('click')
    const preset = wrapper.get('[data-testid=conv-preset]')
    const presetNote = wrapper.get('[data-testid=conv-note]').text()
    expect((preset.element as HTMLSelectElement).value).toBe('sobel-x')
    await wrapper.get('[data-testid=conv-kernel]').setValue('0 0 0 0 2 0 0 0 0')
    expect((preset.element as HTMLSelectElement).value).toBe('custom')
    expect(wrapper.get('[data-testid=conv-note]').text()).not.toBe(presetNote)
    expect(wrapper.get('[data-testid=conv-note]').text()).toMatch(/Your own kernel/)
    expect(wrapper.find('[data-testid=conv-stale]').exists()).toBe(false)
    await wrapper.get('[data-testid=conv-kernel]').setValue('0 0 0 0 2 0 0 0')
    expect(wrapper.get('[data-testid=conv-stale]').text()).toMatch(/Out of date/)
    expect(wrapper.get('figure.focusable').classes()).toContain('stale')
    await preset.setValue('box')
    expect(wrapper.find('[data-testid=conv-stale]').exists()).toBe(false)
    wrapper.unmount()
  })
})
