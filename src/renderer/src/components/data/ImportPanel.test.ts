import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { WorkbenchError } from '../../../../shared/contract/errors'
import { FakeWorkbench } from '../../testing/fake-workbench'
import { mountApp } from '../../testing/mount-app'

let current: VueWrapper | null = null
afterEach(() => {
  current?.unmount()
  current = null
})

async function openData(
  api = new FakeWorkbench()
): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const mounted = await mountApp(api)
  current = mounted.wrapper
  await mounted.wrapper.find('[data-testid="tab-data"]').trigger('click')
  await flushPromises()
  return mounted
}

const byId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)
/** Types a path and waits past the probe delay. */
async function typePath(wrapper: VueWrapper, path: string): Promise<void> {
  await byId(wrapper, 'import-path').setValue(path)
  await new Promise((resolve) => setTimeout(resolve, 400))
  await flushPromises()
}

describe('Import panel, folder of images', () => {
  it('offers colour, size and test share only for a folder of class folders, and sends them', async () => {
    const { wrapper, api } = await openData()
    await typePath(wrapper, '/data/fashion')
    expect(byId(wrapper, 'import-image-options').exists()).toBe(false)

    const original = api.datasets.import
    api.datasets.import = async (request) => ({ ...(await original(request)), skippedFiles: 2 })
    await typePath(wrapper, '/data/my-images')
    expect(api.datasetCalls.filter((c) => c.method === 'probe').at(-1)?.request).toEqual({
      path: '/data/my-images'
    })
    const options = byId(wrapper, 'import-image-options')
    expect(options.exists()).toBe(true)
    expect((byId(wrapper, 'import-size').element as HTMLInputElement).placeholder).toBe('28')
    await byId(wrapper, 'import-rgb').setValue(true)
    expect((byId(wrapper, 'import-size').element as HTMLInputElement).placeholder).toBe('32')
    expect(options.text()).toContain('32 × 32')
    await byId(wrapper, 'import-test-percent').setValue('25')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    expect(api.datasetCalls.find((c) => c.method === 'import')?.request).toEqual({
      path: '/data/my-images',
      color: 'rgb',
      testFraction: 0.25
    })
    expect(byId(wrapper, 'import-status').text()).toContain(
      'Skipped 2 files that are not PNG or JPEG'
    )
  })

  it('refuses an impossible size before asking the app', async () => {
    const { wrapper, api } = await openData()
    await typePath(wrapper, '/data/images')
    await byId(wrapper, 'import-size').setValue('2')
    expect(byId(wrapper, 'import-size').attributes('aria-invalid')).toBe('true')
    expect(byId(wrapper, 'import-button').attributes('disabled')).toBeDefined()
    await byId(wrapper, 'import-size').setValue('64')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    expect(api.datasetCalls.find((c) => c.method === 'import')?.request).toMatchObject({
      color: 'grayscale',
      imageSize: 64,
      testFraction: 0.2
    })
  })
})

describe('Import panel, a name that exists', () => {
  it('offers to replace the dataset only after the app refuses the name, then retries with replace', async () => {
    const { wrapper, api } = await openData()
    expect(byId(wrapper, 'import-replace-option').exists()).toBe(false)
    api.importError = new WorkbenchError(
      'BAD_REQUEST',
      'A dataset named "digits" exists already; runs trained on it would then see other data.',
      { name: 'digits', exists: true }
    )
    await typePath(wrapper, '/data/digits')
    await byId(wrapper, 'import-name').setValue('digits')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    expect(byId(wrapper, 'import-error').text()).toContain('exists already')
    const option = byId(wrapper, 'import-replace-option')
    expect(option.text()).toContain('Replace the existing dataset “digits”')
    expect(option.text()).toContain('Runs trained on the old data are kept but marked “data changed”')
    expect(api.datasetCalls.filter((c) => c.method === 'import').at(-1)?.request).not.toHaveProperty('replace')

    api.importError = null
    await byId(wrapper, 'import-replace').setValue(true)
    expect(byId(wrapper, 'import-button').text()).toBe('Import and replace')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    expect(api.datasetCalls.filter((c) => c.method === 'import').at(-1)?.request).toEqual({
      path: '/data/digits',
      name: 'digits',
      replace: true
    })
    expect(byId(wrapper, 'import-status').text()).toContain('Imported digits.')
    expect(byId(wrapper, 'import-replace-option').exists()).toBe(false)
  })

  it('does not offer a replace for other import errors', async () => {
    const { wrapper, api } = await openData()
    api.importError = new WorkbenchError('DATASET_ERROR', 'train-labels-idx1-ubyte has 19 labels for 20 images.')
    await typePath(wrapper, '/data/broken')
    await byId(wrapper, 'import-button').trigger('submit')
    await flushPromises()
    expect(byId(wrapper, 'import-error').exists()).toBe(true)
    expect(byId(wrapper, 'import-replace-option').exists()).toBe(false)
  })
})
