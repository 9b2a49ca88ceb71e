import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { isProxy } from 'vue'
import { DEFAULT_HYPER } from '../../shared/hyper'
import { FAKE_PRESETS, FakeWorkbench, progressEvent } from './testing/fake-workbench'
import { mountApp, waitForFlush } from './testing/mount-app'

let current: VueWrapper | null = null

async function setup(api?: FakeWorkbench): Promise<{ wrapper: VueWrapper; api: FakeWorkbench }> {
  const mounted = await mountApp(api)
  current = mounted.wrapper
  return mounted
}

const byId = (wrapper: VueWrapper, id: string) => wrapper.find(`[data-testid="${id}"]`)

afterEach(() => {
  current?.unmount()
  current = null
})

describe('layer table', () => {
  it('shows one row per layer of the default LeNet preset with shapes and the total', async () => {
    const { wrapper } = await setup()
    expect((byId(wrapper, 'dataset-select').element as HTMLSelectElement).value).toBe('mnist')
    expect((byId(wrapper, 'preset-select').element as HTMLSelectElement).value).toBe('lenet')

    const rows = wrapper.findAll('[data-testid="layer-row"]')
    expect(rows).toHaveLength(8)
    expect(rows[0].text()).toContain('6 × 28 × 28')
    expect(rows[0].text()).toContain('60')
    expect(rows[5].text()).toContain('120')
    expect(byId(wrapper, 'total-params').text()).toContain('106,154')
    expect(byId(wrapper, 'trainable-params').text()).toContain('106,154')
    // The parameter formula is reachable by keyboard as a tooltip.
    expect(rows[0].find('[role="tooltip"]').text()).toMatch(/= 60$/)
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeUndefined()
  })

  it('disables unavailable datasets and says why', async () => {
    const { wrapper } = await setup()
    const cifar = wrapper.find('[data-testid="dataset-select"] option[value="cifar10"]')
    expect(cifar.attributes('disabled')).toBeDefined()
    expect(cifar.text()).toContain('not downloaded or imported yet')
  })

  it('shows a shape error on its row in red and disables Train with the reason', async () => {
    const api = new FakeWorkbench()
    const lenet = FAKE_PRESETS.find((p) => p.id === 'lenet')!
    api.presetsReply = [
      {
        ...lenet,
        spec: {
          ...lenet.spec,
          layers: [{ type: 'maxPool2d', poolSize: 64 }, ...lenet.spec.layers.slice(4)]
        }
      }
    ]
    const { wrapper } = await setup(api)
    const rows = wrapper.findAll('[data-testid="layer-row"]')
    expect(rows[0].classes()).toContain('has-error')
    expect(rows[0].find('[data-testid="layer-error"]').text().length).toBeGreaterThan(5)
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeDefined()
    expect(byId(wrapper, 'train-blocker').text()).toContain('layer 1')
  })
})

describe('training', () => {
  it('subscribes first, then calls training.start with a plain copy of the form', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'optimizer-select').setValue('sgd')
    await byId(wrapper, 'lr-input').setValue('0.05')
    await byId(wrapper, 'batch-size-input').setValue('64')
    await byId(wrapper, 'epochs-input').setValue('2')
    await byId(wrapper, 'limit-input').setValue('1000')
    await byId(wrapper, 'val-split-input').setValue('20')
    await byId(wrapper, 'backend-select').setValue('cpu')
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()

    expect(api.startCalls).toHaveLength(1)
    const payload = api.startCalls[0]
    expect(api.listenersAtStart).toBe(3)
    expect(payload).toEqual({
      spec: FAKE_PRESETS.find((p) => p.id === 'lenet')!.spec,
      dataset: 'mnist',
      hyper: {
        optimizer: 'sgd',
        learningRate: 0.05,
        batchSize: 64,
        epochs: 2,
        limit: 1000,
        validationSplit: 0.2,
        seed: DEFAULT_HYPER.seed,
        backend: 'cpu',
        normalization: DEFAULT_HYPER.normalization,
        subset: 'first',
        momentum: 0.9,
        beta1: 0.9,
        beta2: 0.999,
        rho: 0.99,
        weightDecay: 0,
        schedule: DEFAULT_HYPER.schedule,
        stepSize: 10,
        gamma: 0.1,
        earlyStopping: 0
      }
    })
    expect(isProxy(payload)).toBe(false)
    expect(isProxy(payload.spec)).toBe(false)
    expect(isProxy(payload.spec.layers)).toBe(false)
    expect(isProxy(payload.spec.layers[0])).toBe(false)
    expect(isProxy(payload.hyper)).toBe(false)
    // What IPC does with it: a proxy anywhere inside would throw here.
    expect(() => structuredClone(payload)).not.toThrow()
    // aria-disabled, not disabled: a disabled button would drop keyboard focus to the page.
    expect(byId(wrapper, 'train-button').attributes('aria-disabled')).toBe('true')
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeUndefined()
    expect(byId(wrapper, 'stop-button').attributes('disabled')).toBeUndefined()
    await byId(wrapper, 'train-button').trigger('click')
    expect(api.startCalls).toHaveLength(1)
  })

  it('leaves out an empty training subset size', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'limit-input').setValue('')
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    expect(api.startCalls[0].hyper).not.toHaveProperty('limit')
  })

  it('coalesces progress events into one update of the progress bar', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.engineEvents.emit({ state: 'stopped', backend: null })
    api.statusEvents.emit({ runId: 'run-1', status: 'running', backend: 'wasm' })
    api.progressEvents.emit(progressEvent({ epoch: 1, batch: 10 }))
    api.progressEvents.emit(progressEvent({ epoch: 2, batch: 20 }))
    api.progressEvents.emit(progressEvent({ epoch: 2, batch: 50, samplesPerSecond: 2345.6 }))
    await flushPromises()
    const bar = byId(wrapper, 'progress')
    expect(bar.attributes('aria-valuenow')).toBe('0')

    await waitForFlush()
    expect(bar.attributes('aria-valuenow')).toBe('30')
    expect(byId(wrapper, 'progress-epoch').text()).toBe('2 / 5')
    expect(byId(wrapper, 'samples-per-second').text()).toBe('2,346')
    expect(byId(wrapper, 'eta').text()).toBe('1:05')
    expect(byId(wrapper, 'run-status').text()).toBe('running')
    expect(byId(wrapper, 'engine-status').text()).toContain('wasm')
  })

  it('ignores events of another run', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.progressEvents.emit(progressEvent({ runId: 'old-run', epoch: 3, batch: 50 }))
    api.statusEvents.emit({ runId: 'old-run', status: 'completed' })
    await waitForFlush()
    expect(byId(wrapper, 'progress').attributes('aria-valuenow')).toBe('0')
    expect(byId(wrapper, 'run-status').text()).toBe('starting')
  })

  it('shows the test accuracy, labelled as the test set, when the run completes', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.epochEvents.emit({
      runId: 'run-1',
      epoch: 1,
      loss: 0.3,
      accuracy: 0.91,
      valLoss: 0.2,
      valAccuracy: 0.94,
      seconds: 12,
      samplesPerSecond: 4500
    })
    api.statusEvents.emit({
      runId: 'run-1',
      status: 'completed',
      params: 106154,
      test: { testAccuracy: 0.97123, testLoss: 0.0912, testCount: 10000 }
    })
    await flushPromises()
    expect(byId(wrapper, 'run-status').text()).toBe('completed')
    expect(byId(wrapper, 'test-accuracy').text()).toBe('97.12 %')
    expect(byId(wrapper, 'test-label').text()).toBe(
      'Test set (10,000 images, never used in training)'
    )
    expect(wrapper.find('tr[data-split="validation"]').text()).toContain('94.00 %')
    expect(wrapper.find('tr[data-split="test"]').text()).toContain('97.12 %')
    expect(byId(wrapper, 'progress').attributes('aria-valuenow')).toBe('100')
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeUndefined()
  })

  it('Stop sends the run id', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    await byId(wrapper, 'stop-button').trigger('click')
    await flushPromises()
    expect(api.stopCalls).toEqual([{ runId: 'run-1' }])
    api.statusEvents.emit({ runId: 'run-1', status: 'stopped' })
    await flushPromises()
    expect(byId(wrapper, 'run-status').text()).toBe('stopped')
  })

  it('Pause and Resume send the run id and the status shows paused', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    // Nothing to pause before the engine has started the run.
    expect(byId(wrapper, 'pause-button').attributes('disabled')).toBeDefined()
    api.statusEvents.emit({ runId: 'run-1', status: 'running', backend: 'wasm' })
    await flushPromises()
    expect(byId(wrapper, 'pause-button').text()).toBe('Pause')
    await byId(wrapper, 'pause-button').trigger('click')
    await flushPromises()
    expect(api.pauseCalls).toEqual([{ runId: 'run-1' }])
    api.statusEvents.emit({ runId: 'run-1', status: 'paused' })
    await flushPromises()
    expect(byId(wrapper, 'run-status').text()).toBe('paused')
    expect(byId(wrapper, 'pause-button').text()).toBe('Resume')
    expect(byId(wrapper, 'stop-button').attributes('disabled')).toBeUndefined()
    await byId(wrapper, 'pause-button').trigger('click')
    await flushPromises()
    expect(api.resumeCalls).toEqual([{ runId: 'run-1' }])
    api.statusEvents.emit({ runId: 'run-1', status: 'running' })
    await flushPromises()
    expect(byId(wrapper, 'pause-button').text()).toBe('Pause')
  })

  it('warns in plain words when validation loss rises for two epochs while training loss falls', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    const epoch = (n: number, loss: number, valLoss: number) =>
      api.epochEvents.emit({ runId: 'run-1', epoch: n, loss, accuracy: 0.9, valLoss, valAccuracy: 0.9, seconds: 1, samplesPerSecond: 100 })
    epoch(1, 0.5, 0.4)
    epoch(2, 0.3, 0.3)
    epoch(3, 0.2, 0.35)
    await flushPromises()
    // One rise is noise, not a trend.
    expect(wrapper.find('[data-testid="overfit-warning"]').exists()).toBe(false)
    epoch(4, 0.1, 0.45)
    await flushPromises()
    expect(byId(wrapper, 'overfit-warning').text()).toContain('Validation loss has risen since epoch 2')
    // Validation loss falling again clears the notice.
    epoch(5, 0.09, 0.3)
    await flushPromises()
    expect(wrapper.find('[data-testid="overfit-warning"]').exists()).toBe(false)
  })

  it('shows the learning rate of the batch in progress under a cosine schedule', async () => {
    const { wrapper, api } = await setup()
    await wrapper.find('[data-testid="lr-input"]').setValue('0.1')
    await wrapper.find('[data-testid="epochs-input"]').setValue('4')
    await wrapper.find('[data-testid="schedule-select"]').setValue('cosine')
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    expect(byId(wrapper, 'learning-rate').text()).toBe('0.1')
    api.progressEvents.emit(progressEvent({ epoch: 3, epochs: 4, batch: 1 }))
    await waitForFlush()
    // Epoch 3 of 4: 0.1 × (1 + cos(π · 2/4)) / 2 = 0.05.
    expect(byId(wrapper, 'learning-rate').text()).toBe('0.05')
    // Cosine anneals every batch: halfway through epoch 3, 0.1 × (1 + cos(π · 2.5/4)) / 2.
    api.progressEvents.emit(progressEvent({ epoch: 3, epochs: 4, batch: 51, batchesPerEpoch: 100 }))
    await waitForFlush()
    expect(byId(wrapper, 'learning-rate').text()).toBe(String(Number(((0.1 * (1 + Math.cos((Math.PI * 2.5) / 4))) / 2).toPrecision(3))))
  })

  it('says to lower the learning rate when the loss diverged', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.statusEvents.emit({
      runId: 'run-1',
      status: 'failed',
      error: { code: 'LOSS_DIVERGED', message: 'The training loss became NaN. Lower it (try 0.0003).' }
    })
    await flushPromises()
    expect(byId(wrapper, 'diverged-warning').text()).toContain('Lower the learning rate')
    expect(byId(wrapper, 'run-error').text()).toContain('LOSS_DIVERGED')
  })

  it('shows a failed run with its message', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.statusEvents.emit({
      runId: 'run-1',
      status: 'failed',
      error: { code: 'BACKEND_UNAVAILABLE', message: 'WebGPU found no adapter; choose wasm.' }
    })
    await flushPromises()
    expect(byId(wrapper, 'run-status').text()).toBe('failed')
    expect(byId(wrapper, 'run-error').text()).toContain('WebGPU found no adapter')
  })

  it('unsubscribes from every stream when the app unmounts', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    wrapper.unmount()
    current = null
    expect(api.progressEvents.listeners.size).toBe(0)
    expect(api.epochEvents.listeners.size).toBe(0)
    expect(api.statusEvents.listeners.size).toBe(0)
    expect(api.engineEvents.listeners.size).toBe(0)
  })
})

describe('hyperparameters', () => {
  it('a negative learning rate shows an inline error and disables Train', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'lr-input').setValue('-0.1')
    expect(byId(wrapper, 'lr-input').attributes('aria-invalid')).toBe('true')
    expect(wrapper.find('#learningRate-error').text()).toContain('above 0')
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeDefined()
    expect(byId(wrapper, 'train-blocker').text()).toContain('learning rate')
    await byId(wrapper, 'train-button').trigger('click')
    expect(api.startCalls).toHaveLength(0)

    await byId(wrapper, 'lr-input').setValue('0.01')
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeUndefined()
  })

  it('an empty epochs field is an error, not a silent default', async () => {
    const { wrapper } = await setup()
    await byId(wrapper, 'epochs-input').setValue('')
    expect(wrapper.find('#epochs-error').exists()).toBe(true)
    expect(byId(wrapper, 'train-button').attributes('disabled')).toBeDefined()
  })
})

describe('engine and errors', () => {
  it('shows the backend in use', async () => {
    const { wrapper } = await setup()
    expect(byId(wrapper, 'engine-status').text()).toContain('wasm')
  })

  it('shows the crash notice with a Restart button that calls engine.restart', async () => {
    const { wrapper, api } = await setup()
    api.engineEvents.emit({ state: 'crashed', backend: null, message: 'exit code 134' })
    await flushPromises()
    const status = byId(wrapper, 'engine-status')
    expect(status.text()).toContain('The training engine stopped unexpectedly')
    expect(status.text()).toContain('the engine restarts on the next training')
    expect(status.find('[role="alert"]').exists()).toBe(true)
    await byId(wrapper, 'engine-restart-button').trigger('click')
    await flushPromises()
    expect(api.restartCalls).toBe(1)
    expect(byId(wrapper, 'engine-status').text()).not.toContain('stopped unexpectedly')
  })

  it('treats a run that failed with ENGINE_CRASHED as an engine crash', async () => {
    const { wrapper, api } = await setup()
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    api.statusEvents.emit({
      runId: 'run-1',
      status: 'failed',
      error: { code: 'ENGINE_CRASHED', message: 'The engine process exited.' }
    })
    await flushPromises()
    expect(byId(wrapper, 'engine-status').text()).toContain('stopped unexpectedly')
  })

  it('shows API errors in a dismissable alert', async () => {
    const api = new FakeWorkbench()
    const { WorkbenchError } = await import('../../shared/contract/errors')
    api.startError = new WorkbenchError('BUSY', 'Another run is in progress; stop it first.')
    const { wrapper } = await setup(api)
    await byId(wrapper, 'train-button').trigger('click')
    await flushPromises()
    const alert = byId(wrapper, 'error-alert')
    expect(alert.attributes('role')).toBe('alert')
    expect(alert.text()).toContain('Another run is in progress; stop it first.')
    expect(alert.text()).toContain('BUSY')
    expect(byId(wrapper, 'run-status').text()).toBe('idle')
    await alert.find('button').trigger('click')
    expect(byId(wrapper, 'error-alert').exists()).toBe(false)
  })
})
