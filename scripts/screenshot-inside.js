#!/usr/bin/env node
'use strict'
// Screenshots of the Inside view: starts the web host, trains LeNet briefly in headless Chromium,
// then draws, opens feature maps, filters, a t-SNE map and the convolution playground.
//   CNNWB_OUT=out node scripts/screenshot-inside.js [outDir]
const { join } = require('node:path')
const { openApp } = require('./lib/app-session')


async function main() {
  const { page, outDir, close } = await openApp()
  try {
    page.on('console', (m) => console.log('[page]', m.text()))
    await page.getByTestId('limit-input').fill(process.env.SHOT_LIMIT || '12000')
    await page.getByTestId('epochs-input').fill('2')
    await page.getByTestId('train-button').click()
    await page.waitForFunction(() => document.querySelector('[data-testid=run-status]')?.textContent?.includes('completed'), null, { timeout: 400000 })
    await page.getByTestId('tab-inside').click()
    const box = await page.getByTestId('drawing-pad').boundingBox()
    // A "7": a top bar, then a slanted stroke down.
    const p = (x, y) => [box.x + x * box.width, box.y + y * box.height]
    await page.mouse.move(...p(0.25, 0.2))
    await page.mouse.down()
    for (let t = 0; t <= 1; t += 0.1) await page.mouse.move(...p(0.25 + 0.5 * t, 0.2))
    for (let t = 0; t <= 1; t += 0.1) await page.mouse.move(...p(0.75 - 0.3 * t, 0.2 + 0.65 * t))
    await page.mouse.up()
    await page.getByTestId('predicted-class').waitFor()
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(outDir, 'inside-draw.png') })
    await page.getByTestId('inside-tab-maps').click()
    await page.getByTestId('feature-map').first().waitFor()
    await page.getByTestId('saliency-toggle').check()
    await page.getByTestId('saliency-map').waitFor()
    await page.screenshot({ path: join(outDir, 'inside-maps.png'), fullPage: true })
    // A map of the second conv layer, enlarged, with the test images that make it brightest.
    await page.getByTestId('layer-2').getByTestId('feature-map').nth(3).click()
    await page.getByTestId('top-find').click()
    await page.getByTestId('top-image').first().waitFor({ timeout: 120000 })
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(outDir, 'inside-top.png') })
    await page.keyboard.press('Escape')
    await page.getByTestId('inside-tab-filters').click()
    await page.getByTestId('filter-kernel').first().waitFor()
    // Step the history slider back to epoch 1, then hover a kernel for its numbers.
    await page.getByTestId('filters-epoch').focus()
    await page.keyboard.press('ArrowLeft')
    await page.waitForFunction(() => document.querySelector('[data-testid=filters-epoch-label]')?.textContent?.startsWith('1 '))
    await page.locator('[data-testid=filters-layer-0] .kernel').first().hover()
    await page.screenshot({ path: join(outDir, 'inside-filters.png'), fullPage: true })
    await page.getByTestId('inside-tab-embed').click()
    await page.getByTestId('embed-start').click()
    await page.getByTestId('embed-summary').waitFor({ timeout: 300000 })
    const plot = await page.getByTestId('embed-plot').boundingBox()
    // Hover until the pointer lands on a dot, so the shot shows its test image.
    search: for (let gy = 0.2; gy < 0.9; gy += 0.05)
      for (let gx = 0.2; gx < 0.9; gx += 0.05) {
        await page.mouse.move(plot.x + plot.width * gx, plot.y + plot.height * gy)
        await page.waitForTimeout(30)
        if (await page.getByTestId('embed-tip').isVisible()) break search
      }
    await page.waitForTimeout(500)
    await page.screenshot({ path: join(outDir, 'inside-tsne.png') })
    // Two maps side by side: the last hidden layer against the input pixels, with PCA.
    await page.mouse.move(0, 0)
    await page.getByTestId('embed-compare').check()
    await page.getByTestId('embed-b-layer').selectOption('-1')
    await page.getByTestId('embed-b-method').selectOption('pca')
    await page.getByTestId('embed-b-start').click()
    await page.getByTestId('embed-b-summary').waitFor({ timeout: 300000 })
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(outDir, 'inside-compare.png'), fullPage: true })
    await page.getByTestId('inside-tab-conv').click()
    const out = await page.getByTestId('conv-output').boundingBox()
    await page.mouse.move(out.x + out.width * 0.3, out.y + out.height * 0.5)
    await page.screenshot({ path: join(outDir, 'inside-conv.png') })
  } finally {
    await close()
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
