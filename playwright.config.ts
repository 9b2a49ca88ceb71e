import { defineConfig } from '@playwright/test'
import { existsSync } from 'node:fs'

/** Debian's Chromium; Playwright's own browser download is not available offline. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

function electronInstalled(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bin = require('electron') as unknown
    return typeof bin === 'string' && existsSync(bin)
  } catch {
    return false
  }
}

export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalSetup: './e2e/global-setup.ts',
  use: {
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run'
      ]
    },
    trace: 'off'
  },
  projects: [
    { name: 'web', use: { browserName: 'chromium' } },
    // The same specs against the desktop app, where Electron's binary installed.
    ...(electronInstalled() ? [{ name: 'electron', use: { browserName: 'chromium' as const } }] : [])
  ]
})
