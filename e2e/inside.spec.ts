import { test, expect, painted } from './fixtures'
import type { Page } from '@playwright/test'

async function drawOne(app: Page): Promise<void> {
  const box = (await app.getByTestId('drawing-pad').boundingBox())!
  const x = box.x + box.width / 2
  await app.mouse.move(x, box.y + box.height * 0.15)
  await app.mouse.down()
  for (let t = 0.15; t <= 0.85; t += 0.05) await app.mouse.move(x + (t - 0.5) * 8, box.y + box.height * t)
  await app.mouse.up()
}

test.describe('inside the network', () => {
  test('train lenet, then draw, read feature maps and filters, and map a layer with t-SNE', async ({ app }) => {
    await app.getByTestId('limit-input').fill('3000')
    await app.getByTestId('epochs-input').fill('2')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 150_000 })

    await app.getByTestId('tab-inside').click()
    await expect(app.getByTestId('inside-run')).toContainText('lenet')
    await drawOne(app)
    await expect(app.getByTestId('drawing-preview')).toBeVisible()
    await expect(app.getByTestId('predicted-class')).toHaveText(/^\s*\d\s*$/, { timeout: 30_000 })
    await expect(app.getByTestId('draw-panel').getByTestId('probability-row')).toHaveCount(10)
    expect(await painted(app.getByTestId('drawing-preview'))).toBeGreaterThan(0)

    await app.getByTestId('inside-tab-maps').click()
    await expect(app.getByTestId('layer-0').getByTestId('feature-map')).toHaveCount(6, { timeout: 30_000 })
    await expect(app.getByTestId('layer-2').getByTestId('feature-map')).toHaveCount(16)
    await app.getByTestId('layer-0').getByTestId('feature-map').first().click()
    await expect(app.getByTestId('enlarged-map')).toBeVisible()
    // The test images that make this map brightest; one of them opens in the view.
    await app.getByTestId('top-find').click()
    await expect(app.getByTestId('top-image')).toHaveCount(16, { timeout: 60_000 })
    for (let i = 0; i < 3; i++) expect(await painted(app.getByTestId('top-image').nth(i).locator('canvas'))).toBeGreaterThan(0)
    const opened = (await app.getByTestId('top-image').nth(1).getAttribute('aria-label'))!.match(/test image (\d+)/)![1]
    await app.getByTestId('top-image').nth(1).click()
    await expect(app.getByTestId('enlarged-map')).toHaveCount(0)
    await expect(app.getByTestId('maps-index')).toHaveValue(opened)
    // Dense layers are bar charts: lenet's 84-unit layer.
    await expect(app.getByTestId('layer-6').getByTestId('vector-bars')).toHaveAttribute('data-bars', '84')
    await app.getByTestId('saliency-toggle').check()
    await expect(app.getByTestId('gradcam-map')).toBeVisible({ timeout: 30_000 })
    expect(await painted(app.getByTestId('gradcam-map'))).toBeGreaterThan(0)

    await app.getByTestId('inside-tab-filters').click()
    const kernels = app.getByTestId('filters-layer-0').getByTestId('filter-kernel')
    await expect(kernels).toHaveCount(6, { timeout: 30_000 })
    for (let i = 0; i < 6; i++) expect(await painted(kernels.nth(i))).toBe(9)
    // The filter history: two epochs kept; stepping back to epoch 1 shows other kernel values.
    await expect(app.getByTestId('filters-epoch-label')).toHaveText('2 / 2')
    await app.locator('[data-testid=filters-layer-0] .kernel').first().focus()
    const zoom = app.getByTestId('kernel-zoom').locator('td')
    await expect(zoom).toHaveCount(9)
    const atEpoch2 = await zoom.allTextContents()
    await app.getByTestId('filters-epoch').focus()
    await app.keyboard.press('ArrowLeft')
    await expect(app.getByTestId('filters-epoch-label')).toHaveText('1 / 2')
    await expect.poll(() => zoom.allTextContents()).not.toEqual(atEpoch2)
    for (let i = 0; i < 6; i++) expect(await painted(kernels.nth(i))).toBe(9)

    await app.getByTestId('inside-tab-embed').click()
    await app.getByTestId('embed-points').fill('500')
    await app.getByTestId('embed-start').click()
    await expect(app.getByTestId('embed-summary')).toContainText('500 test images', { timeout: 120_000 })
    await expect(app.getByTestId('embed-plot')).toHaveAttribute('data-points', '500')
    expect(await painted(app.getByTestId('embed-plot'))).toBeGreaterThan(500)
  })
})
