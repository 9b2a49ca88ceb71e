import { readFileSync } from 'node:fs'
import type { Locator, Page } from '@playwright/test'
import { test, expect } from './fixtures'

const MODEL_FORMAT = 'cnn-workbench.model/1'

async function openEditor(app: Page): Promise<Locator> {
  await app.getByTestId('tab-model').click()
  await expect(app.getByTestId('editor-row').first()).toBeVisible()
  return app.getByTestId('editor-row')
}

/** Adds a conv2d row and sets it as a learner would, typing only the settings. */
async function addConv(app: Page, rows: Locator, filters: string): Promise<void> {
  await app.getByTestId('palette-conv2d').click()
  const row = rows.last()
  await row.getByTestId('field-filters').fill(filters)
  await row.getByTestId('field-kernelSize').fill('3×3')
  await row.getByTestId('field-padding').fill('1')
  await row.getByTestId('field-activation').selectOption('relu')
}

async function addPool(app: Page, rows: Locator): Promise<void> {
  await app.getByTestId('palette-maxPool2d').click()
  await rows.last().getByTestId('field-poolSize').fill('2')
}

async function addDense(app: Page, rows: Locator, units: string, activation: string): Promise<void> {
  await app.getByTestId('palette-dense').click()
  await rows.last().getByTestId('field-units').fill(units)
  await rows.last().getByTestId('field-activation').selectOption(activation)
}

test.describe('the model editor', () => {
  test('builds cnn3 from an empty model, breaks it, undoes the break, and trains what it shows', async ({
    app
  }) => {
    const rows = await openEditor(app)
    await app.getByTestId('start-empty').click()
    await expect(rows).toHaveCount(0)
    await expect(app.getByTestId('editor-empty')).toBeVisible()
    await expect(app.getByTestId('editor-blocker')).toContainText('no layers')

    for (const filters of ['16', '32', '64']) {
      await addConv(app, rows, filters)
      await addPool(app, rows)
    }
    await app.getByTestId('palette-flatten').click()
    await addDense(app, rows, '128', 'relu')
    await addDense(app, rows, '10', 'linear')

    await expect(rows).toHaveCount(9)
    await expect(app.getByTestId('editor-total-params')).toHaveText('98,442')
    await expect(app.getByTestId('editor-trainable')).toHaveText('98,442')
    await expect(app.getByTestId('editor-nontrainable')).toHaveText('0')
    await expect(rows.nth(0).getByTestId('row-output')).toContainText('16 × 28 × 28')
    await expect(rows.nth(0).getByTestId('row-formula')).toContainText('16 × (1 × 3 × 3) + 16 = 160')
    await expect(rows.nth(6).getByTestId('row-output')).toContainText('576')
    await expect(app.getByTestId('editor-ready')).toBeVisible()
    await expect(app.getByTestId('dirty-marker')).toBeVisible()
    await expect(app.getByTestId('diagram-block')).toHaveCount(10)
    await expect(app.getByTestId('export-code')).toContainText('nn.Linear(576, 128)')

    // Break it: a 30×30 kernel on the 7 × 7 maps of the third convolution.
    const kernel = rows.nth(4).getByTestId('field-kernelSize')
    await kernel.fill('30')
    await kernel.press('Tab')
    await expect(app.getByTestId('editor-row-error')).toHaveCount(1)
    await expect(rows.nth(4).getByTestId('editor-row-error')).toContainText(
      'kernel 30 is larger than the 7 × 7'
    )
    await expect(rows.nth(4).getByTestId('editor-row-error')).toContainText('= −20')
    await expect(rows.nth(4)).toHaveAttribute('aria-invalid', 'true')
    await expect(app.getByTestId('editor-blocker')).toContainText('layer 5')
    await expect(app.getByTestId('export-error')).toContainText('layer 5')

    await app.getByTestId('tab-train').click()
    await expect(app.getByTestId('train-button')).toBeDisabled()
    await expect(app.getByTestId('train-blocker')).toContainText('layer 5')

    // Fix it with Ctrl+Z, then redo and undo with the buttons.
    await app.getByTestId('tab-model').click()
    await app.keyboard.press('Control+z')
    await expect(app.getByTestId('editor-row-error')).toHaveCount(0)
    await expect(rows.nth(4).getByTestId('field-kernelSize')).toHaveValue('3×3')
    await expect(app.getByTestId('editor-total-params')).toHaveText('98,442')
    await app.getByTestId('redo-button').click()
    await expect(app.getByTestId('editor-row-error')).toHaveCount(1)
    await app.getByTestId('undo-button').click()
    await expect(app.getByTestId('editor-row-error')).toHaveCount(0)

    await app.getByTestId('tab-train').click()
    await expect(app.getByTestId('train-button')).toBeEnabled()
    await expect(app.getByTestId('layer-row')).toHaveCount(9)
    await expect(app.getByTestId('total-params')).toContainText('98,442')
  })

  test('saves the model as a file and opens it again', async ({ app }, testInfo) => {
    test.skip(testInfo.project.name !== 'web', 'download events are a browser feature')
    const rows = await openEditor(app)
    await app.getByTestId('preset-select').selectOption('cnn3')
    await rows.nth(7).getByTestId('field-units').fill('64')
    await app.getByTestId('model-name').fill('cnn3-narrow')
    await expect(app.getByTestId('dirty-marker')).toBeVisible()
    const total = await app.getByTestId('editor-total-params').textContent()

    const [download] = await Promise.all([
      app.waitForEvent('download'),
      app.getByTestId('save-model').click()
    ])
    expect(download.suggestedFilename()).toBe('cnn3-narrow.json')
    const file = testInfo.outputPath('cnn3-narrow.json')
    await download.saveAs(file)
    await expect(app.getByTestId('dirty-marker')).toHaveCount(0)

    await app.getByTestId('start-empty').click()
    await expect(rows).toHaveCount(0)
    await app.getByTestId('load-model-input').setInputFiles(file)
    await expect(app.getByTestId('file-notice')).toContainText('Opened "cnn3-narrow"')
    await expect(rows).toHaveCount(9)
    await expect(app.getByTestId('editor-total-params')).toHaveText(total ?? '')
    await expect(app.getByTestId('model-name')).toHaveValue('cnn3-narrow')
    await expect(app.getByTestId('dirty-marker')).toHaveCount(0)
  })

  test('a broken model file shows what is wrong and leaves the model alone', async ({ app }) => {
    const rows = await openEditor(app)
    await expect(rows).toHaveCount(8)
    const input = app.getByTestId('load-model-input')
    const error = app.getByTestId('load-error')
    const lenet = {
      format: MODEL_FORMAT,
      name: 'hand-edited',
      input: { channels: 1, height: 28, width: 28 },
      layers: [{ type: 'conv2d', filters: 'six', kernelSize: 3 }, { type: 'flatten' }]
    }
    const cases: Array<{ name: string; text: string; expected: RegExp }> = [
      { name: 'hand.json', text: JSON.stringify(lenet), expected: /layers\.0\.filters/ },
      {
        name: 'truncated.json',
        text: JSON.stringify(lenet).slice(0, 60),
        expected: /truncated/
      },
      {
        name: 'newer.json',
        text: JSON.stringify({ ...lenet, format: 'cnn-workbench.model/7' }),
        expected: /newer version/
      },
      {
        name: 'huge-filters.json',
        text: JSON.stringify({ ...lenet, layers: [{ type: 'conv2d', filters: 1e12, kernelSize: 3 }] }),
        expected: /layers\.0\.filters: must be at most 1000000/
      },
      { name: 'huge.json', text: ' '.repeat(9_000_000), expected: /at most 2,000,000 characters/ }
    ]
    for (const c of cases) {
      await input.setInputFiles({ name: c.name, mimeType: 'application/json', buffer: Buffer.from(c.text) })
      await expect(error).toContainText(`Could not open ${c.name}`)
      await expect(error).toContainText(c.expected)
      await expect(rows).toHaveCount(8)
    }
    await expect(app.getByTestId('undo-button')).toBeDisabled()

    // The largest file the format allows still opens: 200 layers of a million units. No wall-clock
    // assertion (it flakes under load); the expect timeouts below catch a stall.
    const absurd = {
      ...lenet,
      name: 'absurd',
      layers: [
        { type: 'flatten' },
        ...Array.from({ length: 199 }, () => ({ type: 'dense', units: 1_000_000 }))
      ]
    }
    await input.setInputFiles({
      name: 'absurd.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(absurd))
    })
    await expect(rows).toHaveCount(200)
    await expect(app.getByTestId('editor-total-params')).toHaveText('198,000,983,000,000')
  })

  test('reorders with Alt+arrows, buttons and drag, and explains each layer type', async ({
    app
  }) => {
    const rows = await openEditor(app)
    await app.getByTestId('palette-dropout').hover()
    await expect(app.getByTestId('layer-help')).toContainText('Dropout')
    await app.getByTestId('palette-conv2d').hover()
    await expect(app.getByTestId('layer-help-output')).toContainText(
      'floor((in + 2·padding − kernel) / stride) + 1'
    )

    await rows.first().focus()
    await app.keyboard.press('Alt+ArrowDown')
    await expect(rows.nth(0)).toContainText('Max pooling')
    await expect(rows.nth(1)).toContainText('Convolution')
    await expect(rows.nth(1)).toBeFocused()
    await rows.nth(1).getByTestId('move-up').click()
    await expect(rows.nth(0)).toContainText('Convolution')

    await rows.nth(0).getByTestId('duplicate-layer').click()
    await expect(rows).toHaveCount(9)
    await rows.nth(1).getByTestId('remove-layer').click()
    await expect(rows).toHaveCount(8)

    await rows.nth(1).getByTestId('drag-handle').dragTo(rows.nth(0), {
      targetPosition: { x: 40, y: 4 }
    })
    await expect(rows.nth(0)).toContainText('Max pooling')
    await expect(app.getByTestId('dirty-marker')).toBeVisible()
  })

  test('copies the PyTorch code and saves the Keras code as a file', async ({ app }, testInfo) => {
    test.skip(testInfo.project.name !== 'web', 'clipboard and download events are browser features')
    await app.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await openEditor(app)
    await app.getByTestId('copy-code').click()
    await expect(app.getByTestId('export-status')).toHaveText('Copied to the clipboard.')
    const copied = await app.evaluate(() => navigator.clipboard.readText())
    expect(copied).toContain('class Net(nn.Module):')
    expect(copied).toContain('nn.Conv2d(1, 6, kernel_size=3, stride=1, padding=1)')

    await app.getByTestId('export-keras').click()
    const [download] = await Promise.all([
      app.waitForEvent('download'),
      app.getByTestId('save-code').click()
    ])
    expect(download.suggestedFilename()).toBe('lenet_keras.py')
    const file = testInfo.outputPath('lenet_keras.py')
    await download.saveAs(file)
    expect(readFileSync(file, 'utf8')).toContain('layers.Conv2D(6, 3')
  })
})
