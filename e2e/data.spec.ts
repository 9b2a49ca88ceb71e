import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, expect } from './fixtures'
import { writeIdxFolder } from '../src/data/datasets/testing/fixtures'

/** Debian's dataset-fashion-mnist package; generated IDX .gz files stand in where it is absent. */
const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist'
const MNIST_TRAIN = ['5,923', '6,742', '5,958', '6,131', '5,842', '5,421', '5,918', '6,265', '5,851', '5,949']
const SAMPLES_PER_PAGE = 96

async function fashionFolder(): Promise<string> {
  if (existsSync(join(DEBIAN_FASHION, 'train-images-idx3-ubyte.gz'))) return DEBIAN_FASHION
  const dir = join(mkdtempSync(join(tmpdir(), 'cnnwb-e2e-')), 'fashion-mnist')
  return writeIdxFolder(dir, { gzip: true, trainCount: 1200, testCount: 300 })
}

test.describe('the Data view: look at the data before training', () => {
  test('shows MNIST per-class counts of both splits, a page of samples and the mean images', async ({ app }) => {
    await app.getByTestId('tab-data').click()
    const rows = app.getByTestId('class-count-row')
    await expect(rows).toHaveCount(10)
    for (const [i, count] of MNIST_TRAIN.entries()) await expect(rows.nth(i)).toContainText(count)
    await expect(rows.first()).toContainText('980')
    await expect(app.getByTestId('test-total')).toHaveText('10,000')

    const thumbs = app.getByTestId('sample-thumb')
    await expect(thumbs).toHaveCount(SAMPLES_PER_PAGE)
    const painted = await thumbs.first().evaluate((c) => {
      const canvas = c as HTMLCanvasElement
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data
      let bright = 0
      for (let i = 0; data && i < data.length; i += 4) if (data[i] > 128) bright++
      return { width: canvas.width, bright }
    })
    expect(painted.width).toBe(28)
    expect(painted.bright).toBeGreaterThan(30)
    // MNIST's first training image of a 0 is image 1 (image 0 is a 5).
    await thumbs.first().hover()
    await expect(app.getByTestId('sample-info')).toHaveText('Train split, index 1, label 0 (0)')

    await app.getByTestId('class-button-5').click()
    await expect(app.getByTestId('sample-range')).toContainText('of 5,421 (class 5, train split)')
    await app.getByTestId('sample-next').click()
    await expect(app.getByTestId('sample-range')).toContainText(`Images ${SAMPLES_PER_PAGE + 1}–`)
    await app.getByTestId('sample-thumb').nth(3).hover()
    await expect(app.getByTestId('sample-info')).toContainText('label 5 (5)')

    await expect(app.getByTestId('mean-image')).toHaveCount(10)
    await expect(app.getByTestId('pixel-mean')).toHaveText('0.1307')
    await expect(app.getByTestId('pixel-std')).toHaveText('0.3081')
  })

  test('a path without dataset files gives an error naming it', async ({ app }) => {
    await app.getByTestId('tab-data').click()
    await app.getByTestId('import-path').fill('/nonexistent/fashion')
    await app.getByTestId('import-button').click()
    await expect(app.getByTestId('import-error')).toContainText('/nonexistent/fashion does not exist')
  })

  test('imports Fashion-MNIST IDX .gz files, explores them, then trains on them from the Train tab', async ({ app }) => {
    await app.getByTestId('tab-data').click()
    await app.getByTestId('import-path').fill(await fashionFolder())
    await app.getByTestId('import-button').click()
    await expect(app.getByTestId('import-status')).toContainText('Imported', { timeout: 60_000 })
    await expect(app.getByTestId('dataset-select')).toHaveValue('fashion-mnist')
    await expect(app.getByTestId('class-count-row')).toHaveCount(10)
    await expect(app.getByTestId('class-count-row').first()).toContainText('T-shirt/top')
    await expect(app.getByTestId('sample-thumb').first()).toBeVisible()

    await app.getByTestId('tab-train').click()
    await expect(app.getByTestId('dataset-select')).toHaveValue('fashion-mnist')
    await app.getByTestId('limit-input').fill('1000')
    await app.getByTestId('epochs-input').fill('1')
    await app.getByTestId('train-button').click()
    await expect(app.getByTestId('run-status')).toContainText('completed', { timeout: 150_000 })
    const accuracy = Number.parseFloat((await app.getByTestId('test-accuracy').textContent()) ?? '')
    expect(accuracy).toBeGreaterThan(30)
  })
})
