import { test, expect, enginePids, painted } from './fixtures'

test.describe('the learner path: MNIST, LeNet, train, read test accuracy', () => {
  test('shows LeNet layer by layer with PyTorch shapes and 106,154 parameters', async ({ app }) => {
    await expect(app.getByTestId('dataset-select')).toHaveValue('mnist')
    await expect(app.getByTestId('preset-select')).toHaveValue('lenet')
    await expect(app.getByTestId('layer-row')).toHaveCount(8)
    await expect(app.getByTestId('layer-row').first()).toContainText('6 × 28 × 28')
    await expect(app.getByTestId('layer-row').nth(4)).toContainText('784')
    await expect(app.getByTestId('total-params')).toContainText('106,154')
  })

  test('a negative learning rate blocks training and says why', async ({ app }) => {
    await app.getByTestId('lr-input').fill('-0.1')
    await expect(app.getByTestId('train-button')).toBeDisabled()
    await expect(app.getByText(/learning rate/i).first()).toBeVisible()
  })

  test('trains lenet on 2,000 samples for one epoch and reads test accuracy above 80 %', async ({ app }) => {
    await app.getByTestId('limit-input').fill('2000')
    await app.getByTestId('epochs-input').fill('1')
    // Batch 16: the default batch of 64 takes only 28 steps on 2,000 images, too few for 80 %.
    await app.getByTestId('batch-size-input').fill('16')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 150_000 })
    await expect(app.getByTestId('progress')).toHaveAttribute('aria-valuenow', '100')
    await expect(app.getByTestId('engine-status')).toContainText(/wasm|cpu|tensorflow|webgpu/)
    const text = (await app.getByTestId('test-accuracy').textContent()) ?? ''
    const accuracy = Number.parseFloat(text)
    expect(accuracy).toBeGreaterThan(80)
    // The live charts drew something: a canvas with non-blank pixels.
    for (const id of ['loss-chart', 'accuracy-chart']) {
      expect(await painted(app.getByTestId(id))).toBeGreaterThan(100)
    }
  })

  test('stop ends a run after the current batch and still reports test accuracy', async ({ app }) => {
    await app.getByTestId('limit-input').fill('6000')
    await app.getByTestId('epochs-input').fill('50')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('running', { timeout: 60_000 })
    // Stop in epoch 2: the partial epoch is discarded and the test score is of epoch 1, the last
    // whole one (a stop inside epoch 1 has no whole epoch to score).
    await expect(app.getByTestId('progress-epoch')).toHaveText(/^\s*2 \//, { timeout: 120_000 })
    await app.getByTestId('stop-button').click()
    await expect(app.getByTestId('run-status')).toContainText('stopped', { timeout: 60_000 })
    await expect(app.getByTestId('test-accuracy')).toContainText('%')
  })

  test('when the engine dies mid-training the UI says so, and the next run works', async ({ app }, testInfo) => {
    test.skip(testInfo.project.name !== 'web', 'kills the web host engine process by pid')
    await app.getByTestId('limit-input').fill('')
    await app.getByTestId('epochs-input').fill('3')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('running', { timeout: 60_000 })
    const pids = enginePids()
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of pids) process.kill(pid, 'SIGKILL')
    await expect(app.getByTestId('run-status')).toContainText('failed', { timeout: 30_000 })
    await expect(app.getByTestId('engine-status')).toContainText(/stopped unexpectedly/i)
    await app.getByTestId('limit-input').fill('500')
    await app.getByTestId('epochs-input').fill('1')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 120_000 })
  })
})
