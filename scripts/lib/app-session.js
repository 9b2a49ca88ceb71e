'use strict'
// Starts the built web host on a fresh data folder and a headless Chromium page on it, for the
// screenshot scripts. CNNWB_OUT picks the build folder (default out), CHROMIUM_PATH the browser.
const { spawn } = require('node:child_process')
const { mkdtempSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')
const { chromium } = require('playwright-core')

const root = join(__dirname, '..', '..')
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run'
]

/** Resolves with { page, outDir, close } once the app is open in the browser. */
async function openApp({ viewport = { width: 1440, height: 960 } } = {}) {
  const host = spawn(process.execPath, [join(root, process.env.CNNWB_OUT || 'out', 'main/web-host.js')], {
    env: { ...process.env, CNN_WORKBENCH_HOME: mkdtempSync(join(tmpdir(), 'cnnwb-shot-')) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise((resolve, reject) => {
    let out = ''
    host.on('exit', (code) => reject(new Error(`the web host exited with ${code}`)))
    host.stdout.on('data', (c) => {
      out += c
      const m = /running at (\S+)/.exec(out)
      if (m) resolve(m[1])
    })
  })
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: CHROMIUM_ARGS
  })
  const page = await browser.newPage({ viewport })
  await page.goto(url)
  return {
    page,
    outDir: process.argv[2] || join(root, 'docs/screenshots'),
    close: async () => {
      await browser.close()
      host.kill()
    }
  }
}

module.exports = { openApp }
