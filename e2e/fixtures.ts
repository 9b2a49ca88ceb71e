import { test as base, expect, type Page } from '@playwright/test'
import { execFileSync } from 'node:child_process'

/** The app's page: the web host in Chromium, or the desktop window in the electron project. */
export const test = base.extend<{ app: Page }>({
  app: async ({ page, browserName: _b }, use, testInfo) => {
    if (testInfo.project.name === 'electron') {
      const { _electron } = await import('@playwright/test')
      const electronApp = await _electron.launch({ args: ['.'] })
      const win = await electronApp.firstWindow()
      await use(win)
      await electronApp.close()
      return
    }
    await page.goto(process.env.E2E_URL ?? '')
    await use(page)
  }
})

export { expect }

/** Pids of the engine processes the web host started (its child processes). */
export function enginePids(): number[] {
  const hostPid = process.env.E2E_HOST_PID
  if (!hostPid) return []
  try {
    return execFileSync('pgrep', ['-P', hostPid], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}
