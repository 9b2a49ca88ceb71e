#!/usr/bin/env node
'use strict'
// Screenshots of the Runs view: trains two short runs in headless Chromium, opens the
// evaluation of one and compares both.
//   CNNWB_OUT=out node scripts/screenshot-runs.js [outDir]
const { join } = require('node:path')
const { openApp } = require('./lib/app-session')


async function train(page, limit, lr) {
  await page.getByTestId('tab-train').click()
  await page.getByTestId('limit-input').fill(String(limit))
  await page.getByTestId('epochs-input').fill('3')
  await page.getByTestId('lr-input').fill(String(lr))
  await page.getByTestId('train-button').click()
  await page.waitForFunction(
    () => document.querySelector('[data-testid=run-status]')?.textContent?.includes('completed'),
    null,
    { timeout: 300000 }
  )
}

async function main() {
  const { page, outDir, close } = await openApp()
  try {
    await page.getByTestId('train-button').waitFor()
    const limit = Number(process.env.SHOT_LIMIT || 6000)
    await train(page, limit, 0.003)
    await train(page, limit, 0.0003)
    await page.getByTestId('tab-runs').click()
    await page.getByTestId('run-row').nth(1).waitFor()
    await page.getByTestId('open-evaluation').nth(1).click()
    await page.getByTestId('evaluation-panel').waitFor({ timeout: 120000 })
    // Open the biggest mistake cell: the confusion a learner would look at first.
    const cell = await page.evaluate(() => {
      let best = { id: '', n: -1 }
      for (const el of document.querySelectorAll('[data-testid^="cell-"]')) {
        const [t, p] = el.getAttribute('data-testid').split('-').slice(1)
        const n = Number(el.textContent)
        if (t !== p && n > best.n) best = { id: el.getAttribute('data-testid'), n }
      }
      return best.id
    })
    await page.getByTestId(cell).click()
    await page.getByTestId('cell-images').getByTestId('sample-image').first().waitFor()
    await page.waitForTimeout(500)
    await page.getByTestId('evaluation-panel').screenshot({ path: join(outDir, 'evaluation.png') })
    await page.getByTestId('close-evaluation').click()
    const checks = page.getByTestId('compare-check')
    await checks.nth(0).check()
    await checks.nth(1).check()
    await page.getByTestId('compare-panel').waitFor()
    await page.waitForTimeout(800)
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(outDir, 'compare.png'), fullPage: true })
  } finally {
    await close()
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
