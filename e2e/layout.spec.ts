import { test, expect } from './fixtures'
import type { Locator, Page } from '@playwright/test'

const SIZES = [
  { width: 1024, height: 700 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 }
]

/** True when the element's box lies wholly inside the window. */
async function inViewport(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox()
  const size = page.viewportSize()
  if (!box || !size) return false
  return box.y >= 0 && box.x >= 0 && box.y + box.height <= size.height && box.x + box.width <= size.width
}

for (const size of SIZES) {
  test.describe(`the Train tab at ${size.width} x ${size.height}`, () => {
    test.use({ viewport: size })

    test('shows Train and the charts on the first screen; controls, status and progress stay in view after Train, with focus on the control', async ({ app }) => {
      await expect(app.getByTestId('total-params')).toContainText('106,154')
      expect(await app.evaluate(() => window.scrollY)).toBe(0)
      expect(await inViewport(app, app.getByTestId('train-button'))).toBe(true)
      const lossChart = app.getByTestId('loss-chart')
      const chartBox = await lossChart.boundingBox()
      expect(chartBox && chartBox.y + chartBox.height).toBeLessThanOrEqual(size.height)

      await app.getByTestId('limit-input').fill('1000')
      await app.getByTestId('epochs-input').fill('1')
      // Keyboard, as a learner without a mouse: focus Train and press Enter.
      await app.getByTestId('train-button').focus()
      await app.keyboard.press('Enter')
      await expect(app.getByTestId('run-status')).toContainText(/running|completed/, { timeout: 60_000 })
      expect(await app.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('train-button')
      for (const id of ['train-button', 'pause-button', 'stop-button', 'run-status', 'progress', 'progress-epoch', 'eta']) {
        expect(await inViewport(app, app.getByTestId(id)), `${id} in view`).toBe(true)
      }
      // Scrolled to the bottom of the page, the run bar is still there.
      await app.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
      for (const id of ['train-button', 'stop-button', 'progress']) {
        expect(await inViewport(app, app.getByTestId(id)), `${id} in view after scrolling`).toBe(true)
      }
      await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 120_000 })
      expect(await app.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('train-button')
    })
  })
}

test('serves the favicon the page links to: no 404 on load', async ({ page }) => {
  const missing: string[] = []
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(r.url())
  })
  await page.goto(process.env.E2E_URL ?? '')
  await expect(page.getByTestId('total-params')).toContainText('106,154')
  const href = await page.locator('link[rel=icon]').getAttribute('href')
  expect(href).toBeTruthy()
  const icon = await page.request.get(new URL(href ?? '', page.url()).toString())
  expect(icon.status()).toBe(200)
  expect(icon.headers()['content-type']).toContain('image/svg+xml')
  expect(missing).toEqual([])
})

test.describe('at 1024 x 700', () => {
  test.use({ viewport: { width: 1024, height: 700 } })

  test('the Model tab has no field narrower than its content, and rows stay compact', async ({ app }) => {
    await app.getByTestId('tab-model').click()
    await expect(app.getByTestId('editor-row')).toHaveCount(8)
    const cramped = await app.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('#model-view input, #model-view select')]
        .filter((el) => el.offsetParent !== null && el.type !== 'checkbox' && el.type !== 'file')
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => el.getAttribute('data-testid') ?? el.id)
    )
    expect(cramped).toEqual([])
    // A convolution row: its fields on one line, not one field per line.
    const conv = app.getByTestId('editor-row').first()
    const tops = await conv.locator('input[type=text], select').evaluateAll((els) =>
      els.map((el) => Math.round(el.getBoundingClientRect().top))
    )
    expect(new Set(tops).size).toBe(1)
  })

  test('typed kernel weights show "Custom" in the playground', async ({ app }) => {
    await app.getByTestId('tab-inside').click()
    await app.getByTestId('inside-tab-conv').click()
    await app.getByTestId('conv-kernel').fill('0 0 0\n0 2 0\n0 0 0')
    await expect(app.getByTestId('conv-preset')).toHaveValue('custom')
    await expect(app.getByTestId('conv-preset').locator('option:checked')).toHaveText(/Custom/)
    await expect(app.getByTestId('conv-note')).toContainText('Your own kernel')
  })
})
