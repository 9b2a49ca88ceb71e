import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { FakeWorkbench } from './testing/fake-workbench'
import { fakeMetrics, fakeRun } from './testing/fake-runs'
import { mountApp } from './testing/mount-app'
import { LAST_RUN_KEY, SETTINGS_KEY, restoreInto } from './stores/remembered'

let current: VueWrapper | null = null
const byId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

afterEach(() => {
  current?.unmount()
  current = null
})

describe('remembered across a reload', () => {
  it('keeps the training settings', async () => {
    const first = await mountApp()
    current = first.wrapper
    await byId(first.wrapper, 'lr-input').setValue('0.01')
    await byId(first.wrapper, 'epochs-input').setValue('3')
    await byId(first.wrapper, 'optimizer-select').setValue('sgd')
    await flushPromises()
    first.wrapper.unmount()
    expect(JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}')).toMatchObject({
      learningRate: 0.01,
      epochs: 3,
      optimizer: 'sgd'
    })
    // A reload: a fresh app over the same storage.
    const second = await mountApp()
    current = second.wrapper
    expect((byId(second.wrapper, 'lr-input').element as HTMLInputElement).value).toBe('0.01')
    expect((byId(second.wrapper, 'epochs-input').element as HTMLInputElement).value).toBe('3')
    expect((byId(second.wrapper, 'optimizer-select').element as HTMLSelectElement).value).toBe('sgd')
  })

  it('shows the last run on the dashboard after a reload', async () => {
    const api = new FakeWorkbench()
    const first = await mountApp(api)
    current = first.wrapper
    await byId(first.wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.statusEvents.emit({
      runId: 'run-1',
      status: 'completed',
      test: { testAccuracy: 0.9731, testLoss: 0.08, testCount: 10_000 }
    })
    await flushPromises()
    first.wrapper.unmount()
    expect(JSON.parse(localStorage.getItem(LAST_RUN_KEY) ?? '{}')).toEqual({ runId: 'run-1' })

    const reloaded = new FakeWorkbench()
    reloaded.runsFake.records = [
      fakeRun({ id: 'run-1', status: 'completed', test: { testAccuracy: 0.9731, testLoss: 0.08, testCount: 10_000 } })
    ]
    reloaded.runsFake.metrics.set('run-1', fakeMetrics(2, 0.9))
    const second = await mountApp(reloaded)
    current = second.wrapper
    await flushPromises()
    expect(byId(second.wrapper, 'run-status').text()).toBe('completed')
    expect(byId(second.wrapper, 'test-accuracy').text()).toBe('97.31 %')
    expect(byId(second.wrapper, 'run-restored').exists()).toBe(true)
    expect(byId(second.wrapper, 'progress-epoch').text()).toBe(`2 / ${fakeRun().hyper.epochs}`)
  })

  it('ignores remembered values of the wrong type', () => {
    const draft = { learningRate: 0.003 as number | '', optimizer: 'adam', stratified: false }
    restoreInto(draft, { learningRate: 'lots', optimizer: 'sgd', stratified: 'yes', unknown: 1 })
    expect(draft).toEqual({ learningRate: 0.003, optimizer: 'sgd', stratified: false })
  })
})
