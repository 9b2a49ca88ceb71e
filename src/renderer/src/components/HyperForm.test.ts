import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { mountApp } from '../testing/mount-app'

let current: VueWrapper | null = null
afterEach(() => {
  current?.unmount()
  current = null
})

describe('hyperparameter form: preprocessing', () => {
  it('defaults to scaling to [0, 1] and sends the chosen normalization and stratified subset', async () => {
    const { wrapper, api } = await mountApp()
    current = wrapper
    const select = wrapper.find('[data-testid="normalization-select"]')
    expect((select.element as HTMLSelectElement).value).toBe('unit')
    expect(select.findAll('option').map((o) => o.attributes('value'))).toEqual([
      'unit',
      'centered',
      'dataset',
      'sample',
      'none'
    ])
    await select.setValue('dataset')
    await wrapper.find('[data-testid="stratify-input"]').setValue(true)
    await wrapper.find('[data-testid="limit-input"]').setValue('1000')
    await wrapper.find('[data-testid="train-button"]').trigger('click')
    await flushPromises()
    expect(api.startCalls[0].hyper).toMatchObject({
      normalization: 'dataset',
      subset: 'stratified',
      limit: 1000
    })
  })
})
