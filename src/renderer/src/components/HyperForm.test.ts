import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { mountApp } from '../testing/mount-app'
import { DEFAULT_HYPER } from '../../../shared/hyper'

let current: VueWrapper | null = null
afterEach(() => {
  current?.unmount()
  current = null
})

describe('hyperparameter form: preprocessing', () => {
  it('defaults to the training split\'s mean and std and sends the chosen normalization and stratified subset', async () => {
    const { wrapper, api } = await mountApp()
    current = wrapper
    const select = wrapper.find('[data-testid="normalization-select"]')
    expect((select.element as HTMLSelectElement).value).toBe('dataset')
    expect(select.findAll('option').map((o) => o.attributes('value'))).toEqual([
      'unit',
      'centered',
      'dataset',
      'sample',
      'none'
    ])
    await select.setValue('centered')
    await wrapper.find('[data-testid="stratify-input"]').setValue(true)
    await wrapper.find('[data-testid="limit-input"]').setValue('1000')
    await wrapper.find('[data-testid="train-button"]').trigger('click')
    await flushPromises()
    expect(api.startCalls[0].hyper).toMatchObject({
      normalization: 'centered',
      subset: 'stratified',
      limit: 1000
    })
  })
})

describe('hyperparameter form: advanced settings', () => {
  it('sends momentum, weight decay, a step schedule and early stopping; fields follow the choices', async () => {
    const { wrapper, api } = await mountApp()
    current = wrapper
    const has = (id: string): boolean => wrapper.find(`[data-testid="${id}"]`).exists()
    expect(wrapper.find('[data-testid="advanced-settings"] summary').text()).toContain('Advanced')
    // Adam by default: its betas show, momentum and the step fields do not.
    expect(has('beta1-input') && has('beta2-input')).toBe(true)
    expect(has('momentum-input') || has('stepSize-input')).toBe(false)
    await wrapper.find('[data-testid="optimizer-select"]').setValue('momentum')
    await wrapper.find('[data-testid="schedule-select"]').setValue('step')
    await flushPromises()
    expect(has('beta1-input')).toBe(false)
    await wrapper.find('[data-testid="momentum-input"]').setValue('0.8')
    await wrapper.find('[data-testid="weightDecay-input"]').setValue('0.0005')
    await wrapper.find('[data-testid="stepSize-input"]').setValue('3')
    await wrapper.find('[data-testid="gamma-input"]').setValue('0.5')
    await wrapper.find('[data-testid="earlyStopping-input"]').setValue('2')
    await wrapper.find('[data-testid="train-button"]').trigger('click')
    await flushPromises()
    expect(api.startCalls[0].hyper).toMatchObject({
      optimizer: 'momentum',
      momentum: 0.8,
      weightDecay: 0.0005,
      schedule: 'step',
      stepSize: 3,
      gamma: 0.5,
      earlyStopping: 2
    })
  })

  it('explains an out-of-range value and blocks training', async () => {
    const { wrapper, api } = await mountApp()
    current = wrapper
    await wrapper.find('[data-testid="weightDecay-input"]').setValue('5')
    await flushPromises()
    expect(wrapper.find('#weightDecay-error').text()).toContain('from 0 (off) to 1')
    expect(wrapper.find('[data-testid="train-button"]').attributes('disabled')).toBeDefined()
    expect(api.startCalls).toHaveLength(0)
  })
})

describe('hyperparameter form: defaults', () => {
  it('starts from the measured defaults and says why, in words that match them', async () => {
    const { wrapper, api } = await mountApp()
    current = wrapper
    expect((wrapper.find('[data-testid="lr-input"]').element as HTMLInputElement).value).toBe(String(DEFAULT_HYPER.learningRate))
    expect((wrapper.find('[data-testid="batch-size-input"]').element as HTMLInputElement).value).toBe(String(DEFAULT_HYPER.batchSize))
    expect((wrapper.find('[data-testid="epochs-input"]').element as HTMLInputElement).value).toBe(String(DEFAULT_HYPER.epochs))
    const why = wrapper.find('[data-testid="defaults-why"]').text()
    expect(why).toContain(`Adam at ${DEFAULT_HYPER.learningRate}`)
    expect(why).toContain(`batch ${DEFAULT_HYPER.batchSize}`)
    expect(why).toContain(`${DEFAULT_HYPER.epochs} epochs`)
    expect(why).toContain(DEFAULT_HYPER.schedule)
    expect(DEFAULT_HYPER.normalization).toBe('dataset')
    expect(why).toContain('mean and std')
    await wrapper.find('[data-testid="train-button"]').trigger('click')
    await flushPromises()
    expect(api.startCalls[0].hyper).toMatchObject({
      optimizer: DEFAULT_HYPER.optimizer,
      learningRate: DEFAULT_HYPER.learningRate,
      batchSize: DEFAULT_HYPER.batchSize,
      epochs: DEFAULT_HYPER.epochs,
      schedule: DEFAULT_HYPER.schedule,
      normalization: DEFAULT_HYPER.normalization
    })
  })
})
