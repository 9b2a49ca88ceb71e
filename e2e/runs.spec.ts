import { test, expect, openBiggestMistakeCell, painted } from './fixtures'
import type { Page } from '@playwright/test'

/** Trains LeNet on a small subset for one epoch from the Train tab and waits for the end. */
async function trainSmallRun(app: Page, lr: string): Promise<void> {
  await app.getByTestId('tab-train').click()
  await app.getByTestId('limit-input').fill('1000')
  await app.getByTestId('epochs-input').fill('1')
  await app.getByTestId('lr-input').fill(lr)
  await app.getByTestId('train-button').click()
  await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 150_000 })
}

test.describe('runs: evaluation on the test split and comparison', () => {
  test('a finished run is listed with its test accuracy; its confusion matrix opens the images it counts; two runs compare', async ({ app }) => {
    await trainSmallRun(app, '0.003')
    const testAccuracy = ((await app.getByTestId('test-accuracy').textContent()) ?? '').trim()

    await app.getByTestId('tab-runs').click()
    const newest = app.getByTestId('run-row').first()
    await expect(newest.getByTestId('run-test-accuracy')).toHaveText(testAccuracy)
    await newest.getByTestId('open-evaluation').click()
    const panel = app.getByTestId('evaluation-panel')
    await expect(panel).toBeVisible({ timeout: 120_000 })
    await expect(panel).toContainText('test split')
    await expect(app.getByTestId('eval-test-accuracy')).toHaveText(testAccuracy)
    await expect(app.getByTestId('per-class-row')).toHaveCount(10)

    // The matrix counts every test image once; its biggest off-diagonal cell opens as many images as it counts.
    const images = await openBiggestMistakeCell(app)
    // The images were drawn: the first canvas has lit pixels.
    const lit = await images.first().evaluate((c) => {
      const canvas = c as HTMLCanvasElement
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data
      let n = 0
      for (let i = 0; data && i < data.length; i += 4) if (data[i] > 128) n++
      return n
    })
    expect(lit).toBeGreaterThan(20)
    await expect(app.getByTestId('misclassified-item').first()).toBeVisible()
    await expect(app.getByTestId('prediction-item')).toHaveCount(24)

    await trainSmallRun(app, '0.001')
    await app.getByTestId('tab-runs').click()
    await expect(app.getByTestId('run-row').nth(1)).toBeVisible()
    await app.getByTestId('compare-check').nth(0).check()
    await app.getByTestId('compare-check').nth(1).check()
    const compare = app.getByTestId('compare-panel')
    await expect(compare).toBeVisible()
    await expect(compare.getByTestId('diff-row').filter({ hasText: 'Learning rate' })).toContainText('0.001')
    await expect(compare.getByTestId('diff-row').filter({ hasText: 'Learning rate' })).toContainText('0.003')
    expect(await painted(app.getByTestId('compare-accuracy-chart'))).toBeGreaterThan(100)
  })
})
