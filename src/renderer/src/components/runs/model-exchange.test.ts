import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { FakeWorkbench } from '../../testing/fake-workbench'
import { fakeRun } from '../../testing/fake-runs'
import { mountApp } from '../../testing/mount-app'

let current: VueWrapper | null = null
afterEach(() => {
  current?.unmount()
  current = null
  vi.restoreAllMocks()
})

async function openRuns(): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const api = new FakeWorkbench()
  api.runsFake.records = [fakeRun({ id: 'run-a', name: 'Baseline', status: 'completed', epochsDone: 2 })]
  const { wrapper } = await mountApp(api)
  current = wrapper
  await wrapper.find('[data-testid="tab-runs"]').trigger('click')
  await flushPromises()
  return { wrapper, api }
}

describe('Runs view: export and import of a trained model', () => {
  it('Export model downloads model.json and weights.bin of that run', async () => {
    const { wrapper, api } = await openRuns()
    const exportSpy = vi.spyOn(api.runsFake.api, 'export')
    const downloads: string[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push(this.download)
    })
    await wrapper.find('[data-testid="export-model-button"]').trigger('click')
    await flushPromises()
    expect(exportSpy).toHaveBeenCalledWith({ runId: 'run-a' })
    expect(downloads).toEqual(['model.json', 'weights.bin'])
  })

  it('choosing the two files imports them as a new run in the list', async () => {
    const { wrapper, api } = await openRuns()
    const importSpy = vi.spyOn(api.runsFake.api, 'import')
    const input = wrapper.find('[data-testid="import-model-input"]')
    const files = [new File(['{"format":1}'], 'model.json'), new File([new Uint8Array([1, 2, 3, 4])], 'weights.bin')]
    Object.defineProperty(input.element, 'files', { value: files })
    await input.trigger('change')
    await flushPromises()
    expect(importSpy).toHaveBeenCalledWith({
      files: [
        { name: 'model.json', base64: btoa('{"format":1}') },
        { name: 'weights.bin', base64: btoa('\x01\x02\x03\x04') }
      ]
    })
    expect(wrapper.findAll('[data-testid="run-row"]')).toHaveLength(2)
  })
})
