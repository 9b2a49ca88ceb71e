import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
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
