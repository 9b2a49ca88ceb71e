import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { FakeWorkbench } from '../testing/fake-workbench'
import { fakeMetrics, fakeRun } from '../testing/fake-runs'
import { mountApp } from '../testing/mount-app'

let current: VueWrapper | null = null
const byId = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)

afterEach(() => {
  current?.unmount()
  current = null
})

/** The app over a fake API with three kept runs, on the Runs tab. */
async function openRuns(): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const api = new FakeWorkbench()
  api.runsFake.records = [
    fakeRun({ id: 'run-a', name: 'Baseline', createdAt: '2025-01-01T10:00:00Z', params: 106_154, test: { testAccuracy: 0.91, testLoss: 0.3, testCount: 100 } }),
    fakeRun({ id: 'run-b', name: 'Higher LR', createdAt: '2025-01-03T10:00:00Z', params: 50_000, test: { testAccuracy: 0.97, testLoss: 0.1, testCount: 100 }, hyper: { ...fakeRun().hyper, learningRate: 0.01 } }),
    fakeRun({ id: 'run-c', createdAt: '2025-01-02T10:00:00Z', params: 200_000, test: null, status: 'stopped' })
  ]
  api.runsFake.metrics.set('run-a', fakeMetrics(2, 0.8))
  api.runsFake.metrics.set('run-b', fakeMetrics(2, 0.9))
  const { wrapper } = await mountApp(api)
  current = wrapper
  await byId(wrapper, 'tab-runs').trigger('click')
  await flushPromises()
  return { wrapper, api }
}

const order = (w: VueWrapper): string[] => w.findAll('[data-testid="run-row"]').map((r) => r.attributes('data-run-id') ?? '')

describe('Runs view', () => {
  it('lists runs newest first with test accuracy, and sorts by accuracy and parameters', async () => {
    const { wrapper } = await openRuns()
    expect(order(wrapper)).toEqual(['run-b', 'run-c', 'run-a'])
    expect(wrapper.findAll('[data-testid="run-test-accuracy"]').map((c) => c.text())).toEqual(['97.00 %', '—', '91.00 %'])
    await byId(wrapper, 'sort-accuracy').trigger('click')
    expect(order(wrapper)).toEqual(['run-b', 'run-a', 'run-c'])
    await byId(wrapper, 'sort-params').trigger('click')
    expect(order(wrapper)).toEqual(['run-c', 'run-a', 'run-b'])
    await byId(wrapper, 'sort-params').trigger('click')
    expect(order(wrapper)).toEqual(['run-b', 'run-a', 'run-c'])
  })

  it('marks a run whose dataset was replaced since it trained, and only that run', async () => {
    const api = new FakeWorkbench()
    api.runsFake.records = [
      fakeRun({ id: 'run-old', createdAt: '2025-01-01T10:00:00Z', datasetChanged: true }),
      fakeRun({ id: 'run-new', createdAt: '2025-01-02T10:00:00Z' })
    ]
    const { wrapper } = await mountApp(api)
    current = wrapper
    await byId(wrapper, 'tab-runs').trigger('click')
    await flushPromises()
    const row = (id: string) => wrapper.find(`[data-testid="run-row"][data-run-id="${id}"]`)
    const badge = row('run-old').find('[data-testid="run-data-changed"]')
    expect(badge.text()).toBe('data changed')
    expect(badge.attributes('title')).toMatch(/replaced or re-imported since this run trained/)
    expect(badge.attributes('title')).toMatch(/evaluation and resume use different data/)
    expect(row('run-new').find('[data-testid="run-data-changed"]').exists()).toBe(false)
  })

  it('renames a run and saves notes through the API', async () => {
    const { wrapper, api } = await openRuns()
    await wrapper.findAll('[data-testid="rename-button"]')[0].trigger('click')
    await byId(wrapper, 'rename-input').setValue('  Faster LR  ')
    await byId(wrapper, 'rename-input').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(api.runsFake.records.find((r) => r.id === 'run-b')?.name).toBe('  Faster LR  ')
    expect(wrapper.findAll('[data-testid="run-name"]')[0].text()).toBe('  Faster LR  '.trim())
    await wrapper.findAll('[data-testid="notes-button"]')[0].trigger('click')
    await byId(wrapper, 'notes-input').setValue('lr 0.01 overshoots at first')
    await byId(wrapper, 'notes-save').trigger('click')
    await flushPromises()
    expect(api.runsFake.records.find((r) => r.id === 'run-b')?.notes).toBe('lr 0.01 overshoots at first')
  })

  it('deletes a run and brings it back with Undo', async () => {
    const { wrapper, api } = await openRuns()
    await wrapper.findAll('[data-testid="delete-button"]')[0].trigger('click')
    await flushPromises()
    expect(order(wrapper)).toEqual(['run-c', 'run-a'])
    expect(api.runsFake.trash.map((r) => r.id)).toEqual(['run-b'])
    expect(byId(wrapper, 'undo-bar').text()).toContain('Deleted')
    await byId(wrapper, 'undo-delete').trigger('click')
    await flushPromises()
    expect(order(wrapper)).toEqual(['run-b', 'run-c', 'run-a'])
    expect(byId(wrapper, 'undo-bar').exists()).toBe(false)
  })

  it('compares two ticked runs: both curves and only the settings that differ', async () => {
    const { wrapper } = await openRuns()
    const checks = wrapper.findAll('[data-testid="compare-check"]')
    await checks[0].setValue(true)
    await flushPromises()
    expect(byId(wrapper, 'compare-hint').exists()).toBe(true)
    await checks[2].setValue(true)
    await flushPromises()
    expect(byId(wrapper, 'compare-panel').exists()).toBe(true)
    expect(byId(wrapper, 'compare-accuracy-chart').attributes('aria-label')).toContain('Higher LR, Baseline')
    const labels = wrapper.findAll('[data-testid="diff-row"]').map((r) => r.find('th').text())
    expect(labels).toContain('Learning rate')
    expect(labels).toContain('Parameters')
    expect(labels).toContain('Test accuracy')
    expect(labels).not.toContain('Optimizer')
    await byId(wrapper, 'show-all-rows').setValue(true)
    expect(wrapper.findAll('[data-testid="diff-row"]').map((r) => r.find('th').text())).toContain('Optimizer')
  })

  it('shows the evaluation on the test split; a matrix cell asks for exactly the images it counts', async () => {
    const { wrapper, api } = await openRuns()
    await wrapper.findAll('[data-testid="open-evaluation"]')[0].trigger('click')
    await flushPromises()
    const panel = byId(wrapper, 'evaluation-panel')
    expect(panel.text()).toContain('test split')
    expect(byId(wrapper, 'eval-test-accuracy').text()).toBe('90.00 %')
    expect(wrapper.findAll('[data-testid="per-class-row"]')).toHaveLength(10)
    const cells = wrapper.findAll('[data-testid^="cell-"]')
    expect(cells).toHaveLength(100)
    expect(cells.reduce((a, c) => a + Number(c.text()), 0)).toBe(100)
    expect(wrapper.findAll('[data-testid="misclassified-item"]')).toHaveLength(10)
    expect(wrapper.findAll('[data-testid="prediction-item"]')).toHaveLength(4)
    expect(wrapper.findAll('[data-testid="prediction-item"].wrong-tile')).toHaveLength(1)

    await byId(wrapper, 'cell-3-4').trigger('click')
    await flushPromises()
    expect(api.runsFake.imageRequests.at(-1)).toEqual({ name: 'mnist', split: 'test', indices: [39] })
    expect(byId(wrapper, 'cell-images').text()).toContain('1 image of 3 the model took for 4')
    expect(byId(wrapper, 'cell-images').findAll('[data-testid="sample-image"]')).toHaveLength(1)
    await byId(wrapper, 'cell-5-5').trigger('click')
    await flushPromises()
    expect(api.runsFake.imageRequests.at(-1)?.indices).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58])
  })

  it('heads the evaluation with the run\'s name (or model and date), never its internal id, and zooms the per-class bars', async () => {
    const { wrapper } = await openRuns()
    const openButtons = wrapper.findAll('[data-testid="open-evaluation"]')
    await openButtons[0].trigger('click')
    await flushPromises()
    expect(byId(wrapper, 'evaluation-heading').text()).toContain('Higher LR')
    await wrapper.find('[data-run-id="run-c"] [data-testid="open-evaluation"]').trigger('click')
    await flushPromises()
    expect(byId(wrapper, 'evaluation-heading').text()).not.toContain('run-c')
    expect(byId(wrapper, 'evaluation-heading').text()).toContain('2 Jan')
    const widths = () =>
      wrapper.findAll('[data-testid="per-class-bar"]').map((b) => b.attributes('style') ?? '')
    const zoomed = widths()
    await byId(wrapper, 'per-class-zoom').setValue(false)
    expect(byId(wrapper, 'per-class-scale').text()).toContain('0 % to 100 %')
    expect(widths()).not.toEqual(zoomed)
  })

  it('lists a run that finishes while the view is open', async () => {
    const { wrapper, api } = await openRuns()
    api.runsFake.records = [...api.runsFake.records, fakeRun({ id: 'run-d', createdAt: '2025-01-04T10:00:00Z' })]
    api.statusEvents.emit({ runId: 'run-d', status: 'completed' })
    await flushPromises()
    expect(order(wrapper)[0]).toBe('run-d')
  })

  it('shows evaluation progress and cancels it', async () => {
    const { wrapper, api } = await openRuns()
    api.runsFake.holdEvaluation = true
    await wrapper.findAll('[data-testid="open-evaluation"]')[0].trigger('click')
    await flushPromises()
    api.runsFake.emitEvaluation({ runId: 'run-b', progress: { done: 3000, total: 10_000 } })
    await flushPromises()
    expect(byId(wrapper, 'evaluation-loading').text()).toContain('3,000 of 10,000')
    await byId(wrapper, 'cancel-evaluation').trigger('click')
    await flushPromises()
    expect(byId(wrapper, 'evaluation-loading').exists()).toBe(false)
    expect(byId(wrapper, 'evaluation-error').text()).toContain('cancelled')
  })

  it('resumes a stopped run from its checkpoint and follows it on the Train tab', async () => {
    const { wrapper, api } = await openRuns()
    api.runsFake.records = [fakeRun({ id: 'run-s', status: 'stopped', epochsDone: 1, hyper: { ...fakeRun().hyper, epochs: 3 } })]
    api.runsFake.metrics.set('run-s', fakeMetrics(2, 0.8))
    await byId(wrapper, 'tab-train').trigger('click')
    await byId(wrapper, 'tab-runs').trigger('click')
    await flushPromises()
    // Completed runs have nothing to resume.
    expect(wrapper.findAll('[data-testid="resume-run-button"]')).toHaveLength(1)
    await byId(wrapper, 'resume-run-button').trigger('click')
    await flushPromises()
    expect(api.runsFake.resumeCalls).toEqual(['run-s'])
    expect(byId(wrapper, 'run-status').text()).toBe('starting')
    api.statusEvents.emit({ runId: 'run-s', status: 'running', backend: 'wasm' })
    api.epochEvents.emit({ runId: 'run-s', ...fakeMetrics(2, 0.8)[1] })
    await flushPromises()
    expect(byId(wrapper, 'run-status').text()).toBe('running')
    expect(byId(wrapper, 'pause-button').attributes('disabled')).toBeUndefined()
  })

  it('branches a run with a new learning rate and follows the branch on the Train tab', async () => {
    const { wrapper, api } = await openRuns()
    const row = wrapper.find('[data-run-id="run-a"]')
    await row.find('[data-testid="branch-button"]').trigger('click')
    expect((byId(wrapper, 'branch-lr').element as HTMLInputElement).value).toBe(String(Number((fakeRun().hyper.learningRate / 10).toPrecision(3))))
    await byId(wrapper, 'branch-epochs').setValue('2')
    await byId(wrapper, 'branch-start').trigger('submit')
    await flushPromises()
    expect(byId(wrapper, 'branch-error').text()).toContain('above 2')
    await byId(wrapper, 'branch-lr').setValue('0.0002')
    await byId(wrapper, 'branch-epochs').setValue('4')
    await wrapper.find('.branch-form').trigger('submit')
    await flushPromises()
    const branch = api.runsFake.records.find((r) => r.id === 'run-a-branch')
    expect(branch?.hyper.learningRate).toBe(0.0002)
    expect(branch?.branchOf).toEqual({ runId: 'run-a', epoch: 2 })
    expect(byId(wrapper, 'run-status').text()).toBe('starting')
  })
})
