import { test as base, expect, type Locator, type Page } from '@playwright/test'
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

/** Painted (non-transparent) pixels of a canvas. */
export function painted(canvas: Locator): Promise<number> {
  return canvas.evaluate((c) => {
    const el = c as HTMLCanvasElement
    const ctx = el.getContext('2d')
    if (!ctx || el.width === 0) return 0
    const data = ctx.getImageData(0, 0, el.width, el.height).data
    let n = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++
    return n
  })
}

/**
 * On an open evaluation: checks that the confusion matrix counts every one of the 10,000 test
 * images once, opens its biggest off-diagonal cell, checks it shows as many images as it counts
 * (200 at most) under its caption, and returns those images.
 */
export async function openBiggestMistakeCell(app: Page): Promise<Locator> {
  const counts = await app.locator('[data-testid^="cell-"]').allTextContents()
  expect(counts).toHaveLength(100)
  expect(counts.reduce((a, c) => a + Number(c), 0)).toBe(10_000)
  let best = { t: 0, p: 1, n: -1 }
  counts.forEach((c, i) => {
    const t = Math.floor(i / 10)
    const p = i % 10
    if (t !== p && Number(c) > best.n) best = { t, p, n: Number(c) }
  })
  expect(best.n).toBeGreaterThan(0)
  await app.getByTestId(`cell-${best.t}-${best.p}`).click()
  const images = app.getByTestId('cell-images').getByTestId('sample-image')
  await expect(images).toHaveCount(Math.min(best.n, 200))
  await expect(app.getByTestId('cell-images')).toContainText(`of ${best.t} the model took for ${best.p}`)
  return images
}
