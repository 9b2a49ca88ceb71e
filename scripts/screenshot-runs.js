#!/usr/bin/env node
'use strict'
// Screenshots of the Runs view: trains two short runs in headless Chromium, opens the
// evaluation of one and compares both.
//   CNNWB_OUT=out node scripts/screenshot-runs.js [outDir]
const { spawn } = require('node:child_process')
const { mkdtempSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { chromium } = require('playwright-core')

const root = join(__dirname, '..')
const outDir = process.argv[2] || join(root, 'docs/screenshots')
const build = process.env.CNNWB_OUT || 'out'

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
  const host = spawn(process.execPath, [join(root, build, 'main/web-host.js')], {
    env: { ...process.env, CNN_WORKBENCH_HOME: mkdtempSync(join(tmpdir(), 'cnnwb-shot-')) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise((resolve) => {
    let out = ''
    host.stdout.on('data', (c) => {
      out += c
      const m = /running at (\S+)/.exec(out)
      if (m) resolve(m[1])
    })
  })
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
  })
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 960 } })
    await page.goto(url)
    await page.getByTestId('train-button').waitFor()
    await train(page, 6000, 0.003)
    await train(page, 6000, 0.0003)
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
    await browser.close()
    host.kill()
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
