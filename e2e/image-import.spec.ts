import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, expect } from './fixtures'
import { writeImageFolder } from '../src/core/datasets/testing/images'

test.describe('importing a folder of images, one sub-folder per class', () => {
  test('offers colour, size and test share, imports, and explores the result', async ({ app }) => {
    const folder = await writeImageFolder(
      join(mkdtempSync(join(tmpdir(), 'cnnwb-e2e-img-')), 'toys'),
      {
        perClass: { ball: 20, car: 10, kite: 15 },
        extraFiles: 1
      }
    )
    await app.getByTestId('tab-data').click()
    await app.getByTestId('import-path').fill(folder)
    await expect(app.getByTestId('import-image-options')).toBeVisible()
    await app.getByTestId('import-rgb').check()
    await app.getByTestId('import-size').fill('24')
    await app.getByTestId('import-test-percent').fill('20')
    await app.getByTestId('import-button').click()
    await expect(app.getByTestId('import-status')).toContainText('Imported toys.')
    await expect(app.getByTestId('import-status')).toContainText('Skipped 3 files')

    const rows = app.getByTestId('class-count-row')
    await expect(rows).toHaveCount(3)
    await expect(rows.nth(0)).toContainText('ball')
    await expect(rows.nth(0)).toContainText('16')
    await expect(app.getByTestId('train-total')).toHaveText('36')
    await expect(app.getByTestId('test-total')).toHaveText('9')
    const width = await app
      .getByTestId('sample-thumb')
      .first()
      .evaluate((c) => (c as HTMLCanvasElement).width)
    expect(width).toBe(24)
  })

  test('a broken image fails with an error naming the file', async ({ app }) => {
    const folder = await writeImageFolder(
      join(mkdtempSync(join(tmpdir(), 'cnnwb-e2e-img-')), 'broken'),
      {
        perClass: { a: 2, b: 2 }
      }
    )
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(folder, 'a', 'bad.jpg'), 'not a jpeg')
    await app.getByTestId('tab-data').click()
    await app.getByTestId('import-path').fill(folder)
    await expect(app.getByTestId('import-image-options')).toBeVisible()
    await app.getByTestId('import-button').click()
    await expect(app.getByTestId('import-error')).toContainText(
      'a/bad.jpg is not a PNG or JPEG image'
    )
  })
})
