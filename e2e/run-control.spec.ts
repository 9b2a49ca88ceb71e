import { test, expect, enginePids } from './fixtures'

test.describe('run control: pause, resume, stop, and resuming a run after the engine was killed', () => {
  test('pauses a run (clock stopped), resumes it, then stops it', async ({ app }) => {
    await app.getByTestId('limit-input').fill('')
    await app.getByTestId('epochs-input').fill('3')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('running', { timeout: 60_000 })
    await expect(app.getByTestId('samples-per-second')).not.toHaveText(/^\s*(—|-|0)?\s*$/, { timeout: 30_000 })
    await app.getByTestId('pause-button').click()
    await expect(app.getByTestId('run-status')).toHaveText('paused')
    await expect(app.getByTestId('pause-button')).toHaveText(/Resume/)
    // Nothing moves while paused: the batch counter and the elapsed clock hold still.
    await app.waitForTimeout(500)
    const batch = await app.getByTestId('progress-batch').textContent()
    const elapsed = await app.getByTestId('elapsed').textContent()
    await app.waitForTimeout(1500)
    await expect(app.getByTestId('progress-batch')).toHaveText(batch ?? '')
    await expect(app.getByTestId('elapsed')).toHaveText(elapsed ?? '')
    await app.getByTestId('pause-button').click()
    await expect(app.getByTestId('run-status')).toHaveText('running')
    await expect(app.getByTestId('progress-batch')).not.toHaveText(batch ?? '', { timeout: 30_000 })
    await app.getByTestId('stop-button').click()
    await expect(app.getByTestId('run-status')).toContainText('stopped', { timeout: 60_000 })
  })

  test('resumes a run from its checkpoint after the engine was killed', async ({ app }, testInfo) => {
    test.skip(testInfo.project.name !== 'web', 'kills the web host engine process by pid')
    await app.getByTestId('limit-input').fill('8000')
    await app.getByTestId('epochs-input').fill('3')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('progress-epoch')).toContainText(/^\s*2 \/ 3/, { timeout: 120_000 })
    // Epoch 1's checkpoint is written just after its epoch event; give it a moment.
    await app.waitForTimeout(300)
    for (const pid of enginePids()) process.kill(pid, 'SIGKILL')
    await expect(app.getByTestId('run-status')).toContainText('failed', { timeout: 30_000 })
    await app.getByTestId('tab-runs').click()
    await app.getByTestId('resume-run-button').first().click()
    await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 150_000 })
    await expect(app.getByTestId('progress-epoch')).toContainText('3 / 3')
    await expect(app.getByTestId('test-accuracy')).toContainText('%')
  })
})
