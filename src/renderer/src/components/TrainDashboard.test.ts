import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { FakeWorkbench, progressEvent } from '../testing/fake-workbench'
import { mountApp, waitForFlush } from '../testing/mount-app'
import { sampledBatchesText, validationText } from '../charts/captions'
import { useTrainingStore } from '../stores/training'

let current: VueWrapper | null = null
const byId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

afterEach(() => {
  current?.unmount()
  current = null
})

async function startedRun(): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const mounted = await mountApp()
  current = mounted.wrapper
  await byId(mounted.wrapper, 'train-button').trigger('click')
  await flushPromises()
  mounted.api.statusEvents.emit({ runId: 'run-1', status: 'running', backend: 'wasm' })
  await flushPromises()
  return mounted
}

describe('the run controls', () => {
  it('keeps focus on Train after the click, and says Paused (not Training…) while paused', async () => {
    const { wrapper, api } = await mountApp()
    current = wrapper
    const train = byId(wrapper, 'train-button')
    ;(train.element as HTMLButtonElement).focus()
    await train.trigger('click')
    await flushPromises()
    api.statusEvents.emit({ runId: 'run-1', status: 'running', backend: 'wasm' })
    await flushPromises()
    expect(document.activeElement).toBe(train.element)
    expect(train.text()).toBe('Training…')
    api.statusEvents.emit({ runId: 'run-1', status: 'paused' })
    await flushPromises()
    expect(train.text()).toBe('Paused')
    expect(document.activeElement).toBe(train.element)
    api.statusEvents.emit({ runId: 'run-1', status: 'completed' })
    await flushPromises()
    expect(train.text()).toBe('Train')
    expect(train.attributes('aria-disabled')).toBeUndefined()
  })

  it('shows the controls and the progress together in the run bar', async () => {
    const { wrapper } = await startedRun()
    const bar = byId(wrapper, 'run-bar')
    for (const id of ['train-button', 'pause-button', 'stop-button', 'run-status', 'progress']) {
      expect(bar.find(`[data-testid="${id}"]`).exists()).toBe(true)
    }
  })
})

describe('the live charts', () => {
  it('places batches in fractional epochs and keeps mid-epoch validation checks', async () => {
    const { api } = await startedRun()
    const training = useTrainingStore()
    api.progressEvents.emit(progressEvent({ epoch: 1, batch: 50, batchesPerEpoch: 100 }))
    api.progressEvents.emit(
      progressEvent({
        epoch: 1,
        batch: 75,
        batchesPerEpoch: 100,
        valLoss: 0.4,
        valAccuracy: 0.9,
        valCount: 1000
      })
    )
    await waitForFlush()
    expect(training.lossRaw.map((p) => p.x)).toEqual([0.5, 0.75])
    expect(training.accuracySmoothed).toHaveLength(2)
    api.epochEvents.emit({
      runId: 'run-1',
      epoch: 1,
      loss: 0.5,
      accuracy: 0.85,
      valLoss: 0.35,
      valAccuracy: 0.91,
      seconds: 10,
      samplesPerSecond: 100
    })
    await flushPromises()
    expect(training.validationPoints).toEqual([
      { x: 0.75, loss: 0.4, accuracy: 0.9, sample: true },
      { x: 1, loss: 0.35, accuracy: 0.91, sample: false }
    ])
  })

  it('says how the batch curve was sampled', async () => {
    const { wrapper, api } = await startedRun()
    api.progressEvents.emit(progressEvent({ epoch: 1, batch: 40, batchesPerEpoch: 100 }))
    api.progressEvents.emit(progressEvent({ epoch: 1, batch: 80, batchesPerEpoch: 100 }))
    await waitForFlush()
    expect(byId(wrapper, 'loss-caption').text()).toContain('2 of 80 shown, about 1 in 40')
  })
})

describe('chart captions', () => {
  it('tells the truth about sampling', () => {
    setActivePinia(createPinia())
    expect(sampledBatchesText(10, 10)).toContain('every one shown')
    expect(sampledBatchesText(3375, 300)).toContain('about 1 in 11')
    expect(validationText([{ x: 1, loss: 1, accuracy: 0.5, sample: false }])).not.toContain(
      'sample'
    )
    expect(validationText([{ x: 0.5, loss: 1, accuracy: 0.5, sample: true }])).toContain('sample')
  })
})
