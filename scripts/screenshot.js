#!/usr/bin/env node
'use strict'
// Takes README screenshots of the real app: starts the web host, trains in headless Chromium.
//   node scripts/screenshot.js [outDir]
const { join } = require('node:path')
const { openApp } = require('./lib/app-session')


async function main() {
  const { page, outDir, close } = await openApp()
  try {
    await page.getByTestId('total-params').waitFor()
    await page.screenshot({ path: join(outDir, 'setup.png') })
    // The editor on cnn3, one conv widened past what fits: a shape error on its row.
    await page.getByTestId('tab-model').click()
    await page.getByTestId('preset-select').selectOption('cnn3')
    await page.getByTestId('editor-row').nth(4).getByTestId('field-kernelSize').fill('11')
    await page.getByTestId('palette-dropout').hover()
    // The palette, the start card and the layers with the error: under 300 KB as a PNG.
    await page.screenshot({ path: join(outDir, 'editor.png'), fullPage: true, clip: { x: 0, y: 0, width: 1440, height: 1500 } })
    await page.keyboard.press('Control+z')
    // The README's pictures train LeNet, the first network a learner meets.
    await page.getByTestId('preset-select').selectOption('lenet')
    await page.getByTestId('tab-train').click()
    if (process.env.SCREENSHOT_ONLY === 'editor') return
    await page.getByTestId('limit-input').fill(process.env.SHOT_LIMIT || '12000')
    await page.getByTestId('epochs-input').fill('3')
    await page.getByTestId('train-button').click()
    await page.waitForFunction(() => document.querySelector('[data-testid=run-status]')?.textContent?.includes('running'))
    // Past the first mid-epoch validation check, so both charts have something to say.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=progress]')?.getAttribute('aria-valuenow')) >= 12, null, { timeout: 300000 })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(outDir, 'training-live.png') })
    // The first screen while training, at three window sizes (README: "from 1024 px to 1920 px").
    for (const [width, height] of [[1024, 700], [1440, 900], [1920, 1080]]) {
      await page.setViewportSize({ width, height })
      await page.waitForTimeout(700)
      await page.screenshot({ path: join(outDir, `train-${width}.png`) })
    }
    await page.setViewportSize({ width: 1440, height: 960 })
    await page.waitForFunction(() => document.querySelector('[data-testid=run-status]')?.textContent?.includes('completed'), null, { timeout: 300000 })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(outDir, 'training.png'), fullPage: true })
  } finally {
    await close()
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
