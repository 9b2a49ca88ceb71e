import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { WorkbenchError } from '../../../shared/contract/errors'
import { FakeWorkbench } from '../testing/fake-workbench'
import { mountApp } from '../testing/mount-app'
import { SAMPLES_PER_PAGE } from '../stores/explorer'
import { unavailableReason } from '../stores/datasets'
import { FAKE_DATASETS } from '../testing/fake-workbench'

let current: VueWrapper | null = null

async function openData(api = new FakeWorkbench()): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const mounted = await mountApp(api)
  current = mounted.wrapper
  await mounted.wrapper.find('[data-testid="tab-data"]').trigger('click')
  await flushPromises()
  return mounted
}

const byId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)
const samplesCalls = (api: FakeWorkbench) =>
  api.datasetCalls.filter((c) => c.method === 'samples').map((c) => c.request)

afterEach(() => {
  current?.unmount()
  current = null
})

describe('Data view', () => {
  it('shows train and test counts per class, labelled by split', async () => {
    const { wrapper } = await openData()
    const rows = wrapper.findAll('[data-testid="class-count-row"]')
    expect(rows).toHaveLength(10)
    expect(rows[0].text()).toContain('5,923')
    expect(rows[0].text()).toContain('980')
    expect(rows[1].text()).toContain('6,742')
    expect(byId(wrapper, 'class-counts').text()).toMatch(/Train split.*Test split/s)
    expect(byId(wrapper, 'train-total').text()).toBe('60,000')
    expect(byId(wrapper, 'imbalance').text()).toContain('1.24×')
  })

  it('pages thumbnails of one class and shows index and label on hover', async () => {
    const { wrapper, api } = await openData()
    const thumbs = wrapper.findAll('[data-testid="sample-thumb"]')
    expect(thumbs).toHaveLength(SAMPLES_PER_PAGE)
    expect(samplesCalls(api)[0]).toMatchObject({ name: 'mnist', split: 'train', classIndex: 0, offset: 0 })
    await thumbs[1].trigger('mouseenter')
    expect(byId(wrapper, 'sample-info').text()).toBe('Train split, index 10, label 0 (0)')
    expect(byId(wrapper, 'sample-range').text()).toContain('of 5,923 (class 0, train split)')

    await byId(wrapper, 'sample-next').trigger('click')
    await flushPromises()
    expect(samplesCalls(api).at(-1)).toMatchObject({ offset: SAMPLES_PER_PAGE, classIndex: 0 })
    expect(byId(wrapper, 'sample-prev').attributes('disabled')).toBeUndefined()

    await byId(wrapper, 'class-button-7').trigger('click')
    await flushPromises()
    expect(samplesCalls(api).at(-1)).toMatchObject({ classIndex: 7, offset: 0 })
    await byId(wrapper, 'sample-split-test').trigger('click')
    await flushPromises()
    expect(samplesCalls(api).at(-1)).toMatchObject({ split: 'test', classIndex: 7 })
    await wrapper.findAll('[data-testid="sample-thumb"]')[0].trigger('focus')
    expect(byId(wrapper, 'sample-info').text()).toBe('Test split, index 7, label 7 (7)')
  })

  it('shows pixel statistics of the train split and one mean image per class', async () => {
    const { wrapper } = await openData()
    expect(byId(wrapper, 'pixel-mean').text()).toBe('0.1307')
    expect(byId(wrapper, 'pixel-std').text()).toBe('0.3081')
    expect(wrapper.findAll('[data-testid="mean-image"]')).toHaveLength(10)
    expect(wrapper.text()).toMatch(/Train split, all 60,000 images/)
  })

  it('imports a folder, then lists and selects it for training', async () => {
    const { wrapper, api } = await openData()
    await byId(wrapper, 'import-path').setValue('/data/fashion')
    await byId(wrapper, 'import-name').setValue('fashion-mnist')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    expect(api.datasetCalls.find((c) => c.method === 'import')?.request).toEqual({
      path: '/data/fashion',
      name: 'fashion-mnist'
    })
    expect(byId(wrapper, 'import-status').text()).toContain('Imported fashion-mnist')
    const select = byId(wrapper, 'dataset-select').element as HTMLSelectElement
    expect(select.value).toBe('fashion-mnist')
  })

  it('shows an import error naming the file and the problem', async () => {
    const api = new FakeWorkbench()
    api.importError = new WorkbenchError(
      'DATASET_ERROR',
      '/data/x/train-labels-idx1-ubyte is truncated: its header declares 60008 bytes but the file has 100.'
    )
    const { wrapper } = await openData(api)
    await byId(wrapper, 'import-path').setValue('/data/x')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    const error = byId(wrapper, 'import-error')
    expect(error.attributes('role')).toBe('alert')
    expect(error.text()).toContain('train-labels-idx1-ubyte is truncated')
    expect(byId(wrapper, 'import-path').attributes('aria-invalid')).toBe('true')
  })

  it('shows download progress with Cancel, and the offline error with what to do', async () => {
    const api = new FakeWorkbench()
    api.downloadError = new WorkbenchError(
      'IO_ERROR',
      'Could not reach fashion-mnist.s3-website.eu-central-1.amazonaws.com to download Fashion-MNIST (getaddrinfo ENOTFOUND); import the files instead.'
    )
    const { wrapper } = await openData(api)
    await byId(wrapper, 'download-fashion-mnist').trigger('click')
    await flushPromises()
    api.datasetProgressEvents.emit({
      name: 'fashion-mnist',
      phase: 'download',
      file: 'train-images-idx3-ubyte.gz',
      fileIndex: 1,
      fileCount: 4,
      receivedBytes: 500,
      totalBytes: 1000
    })
    await flushPromises()
    expect(byId(wrapper, 'download-progress-fashion-mnist').attributes('aria-valuenow')).toBe('38')
    expect(byId(wrapper, 'download-fashion-mnist').attributes('disabled')).toBeDefined()
    await byId(wrapper, 'download-cancel-fashion-mnist').trigger('click')
    await flushPromises()
    expect(api.datasetCalls.at(-1)).toEqual({ method: 'cancel', request: { name: 'fashion-mnist' } })
    api.finishDownload?.()
    await flushPromises()
    expect(byId(wrapper, 'download-error-fashion-mnist').text()).toMatch(
      /Could not reach .*import the files instead/
    )
    expect(wrapper.find('[data-testid="download-cancel-fashion-mnist"]').exists()).toBe(false)
  })

  it('points at the Data tab for a dataset that is not there yet, and at reinstalling for MNIST', () => {
    const base = FAKE_DATASETS[0]
    expect(unavailableReason({ ...base, available: false, source: 'builtin-missing' })).toMatch(
      /not downloaded or imported yet; add it in the Data tab/
    )
    expect(unavailableReason({ ...base, available: false, source: 'bundled' })).toMatch(/reinstall/)
  })

  it('reports a cancelled download as cancelled, not as an error', async () => {
    const api = new FakeWorkbench()
    api.downloadError = new WorkbenchError('CANCELLED', 'The download was cancelled.')
    const { wrapper } = await openData(api)
    await byId(wrapper, 'download-cifar-10').trigger('click')
    await flushPromises()
    await byId(wrapper, 'download-cancel-cifar-10').trigger('click')
    api.finishDownload?.()
    await flushPromises()
    expect(wrapper.find('[data-testid="download-error-cifar-10"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('Download cancelled; nothing was kept.')
  })
})
