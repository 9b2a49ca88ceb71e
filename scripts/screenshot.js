#!/usr/bin/env node
'use strict'
// Takes README screenshots of the real app: starts the web host, trains in headless Chromium.
//   node scripts/screenshot.js [outDir]
const { spawn } = require('node:child_process')
const { mkdtempSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { chromium } = require('playwright-core')

const root = join(__dirname, '..')
const outDir = process.argv[2] || join(root, 'docs/screenshots')

async function main() {
  const host = spawn(process.execPath, [join(root, process.env.CNNWB_OUT || 'out', 'main/web-host.js')], {
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
    await page.getByTestId('total-params').waitFor()
    await page.screenshot({ path: join(outDir, 'setup.png') })
    // The editor on cnn3, one conv widened past what fits: a shape error on its row.
    await page.getByTestId('tab-model').click()
    await page.getByTestId('preset-select').selectOption('cnn3')
    await page.getByTestId('editor-row').nth(4).getByTestId('field-kernelSize').fill('11')
    await page.getByTestId('palette-dropout').hover()
    await page.screenshot({ path: join(outDir, 'editor.png'), fullPage: true })
    await page.keyboard.press('Control+z')
    await page.getByTestId('tab-train').click()
    if (process.env.SCREENSHOT_ONLY === 'editor') return
    await page.getByTestId('limit-input').fill('12000')
    await page.getByTestId('epochs-input').fill('3')
    await page.getByTestId('train-button').click()
    await page.waitForFunction(() => document.querySelector('[data-testid=run-status]')?.textContent?.includes('running'))
    await page.waitForTimeout(5000)
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(outDir, 'training-live.png') })
    await page.waitForFunction(() => document.querySelector('[data-testid=run-status]')?.textContent?.includes('completed'), null, { timeout: 300000 })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(outDir, 'training.png'), fullPage: true })
  } finally {
    await browser.close()
    host.kill()
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
