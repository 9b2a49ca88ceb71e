import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test, expect, openBiggestMistakeCell, painted } from './fixtures'

const PYTHON = '/usr/bin/python3'
const ROOT = resolve(__dirname, '..')
// The CLI of the same build the web host runs (global-setup.ts: CNNWB_OUT, default out).
// `import torch` alone takes 10-80 s on the shared machine; training 3000 images one more minute.
const TORCH_IMPORT_TIMEOUT_MS = 300_000
const TRAIN_TIMEOUT_MS = 900_000

test.describe('a run trained with PyTorch comes back into the workbench', () => {
  test.describe.configure({ timeout: TRAIN_TIMEOUT_MS + TORCH_IMPORT_TIMEOUT_MS })
  let work = ''
  let runDir = ''
  let torchTestAccuracy = 0

  test.beforeAll(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { timeout: TORCH_IMPORT_TIMEOUT_MS })
    test.skip(probe.status !== 0, `PyTorch is not importable by ${PYTHON}: the export cannot be trained here`)

    work = mkdtempSync(join(tmpdir(), 'cnnwb-e2e-pytorch-'))
    const project = join(work, 'project')
    runDir = join(work, 'run')
    const exported = spawnSync(
      process.execPath,
      [join(ROOT, process.env.CNNWB_OUT ?? 'out', 'main/cli.js'), 'export', '--preset', 'lenet', '--format', 'pytorch-project',
        '--dataset', 'mnist', '--limit', '3000', '--epochs', '1', '--out', project],
      { env: { ...process.env, CNN_WORKBENCH_HOME: join(work, 'home') }, encoding: 'utf8' }
    )
    expect(exported.status, exported.stderr).toBe(0)
    const trained = spawnSync(PYTHON, ['train.py', '--out', runDir, '--json'], {
      cwd: project,
      encoding: 'utf8',
      timeout: TRAIN_TIMEOUT_MS
    })
    expect(trained.status, trained.stderr).toBe(0)
    const done = trained.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; testAccuracy?: number })
      .find((l) => l.event === 'done')
    expect(done?.testAccuracy).toBeGreaterThan(0.2) // chance is 0.1
    torchTestAccuracy = done!.testAccuracy!
  })

  test.afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('import train.py\'s folder in the Runs tab, evaluate it, open a confusion cell and its filters', async ({ app }, testInfo) => {
    await app.getByTestId('tab-runs').click()
    await app
      .getByTestId('import-model-input')
      .setInputFiles(['run.json', 'weights.safetensors', 'metrics.jsonl'].map((f) => join(runDir, f)))

    const row = app.getByTestId('run-row').filter({ has: app.getByTestId('trained-by') })
    await expect(row).toHaveCount(1, { timeout: 60_000 })
    await expect(row.getByTestId('trained-by')).toHaveText(/trained with PyTorch \(1 process, cpu\)/)
    await expect(row).toContainText('lenet')
    await expect(row.getByTestId('export-pytorch-button')).toBeVisible()
    await app.screenshot({ path: testInfo.outputPath('runs-pytorch.png'), clip: { x: 0, y: 0, width: 1400, height: 400 } })
    const runId = (await row.getAttribute('data-run-id'))!

    // Our evaluation of PyTorch's weights on the test split: PyTorch's own figure, to the display's 0.01 %.
    await row.getByTestId('open-evaluation').click()
    await expect(app.getByTestId('evaluation-panel')).toBeVisible({ timeout: 120_000 })
    await expect(app.getByTestId('eval-test-accuracy')).toBeVisible({ timeout: 120_000 })
    const shown = Number.parseFloat((await app.getByTestId('eval-test-accuracy').textContent()) ?? '')
    expect(Math.abs(shown - torchTestAccuracy * 100)).toBeLessThanOrEqual(0.1)
    // Every test image counted once; the biggest off-diagonal cell opens as many images as it counts.
    const images = await openBiggestMistakeCell(app)
    expect(await painted(images.first())).toBeGreaterThan(0)

    // Inside: the imported run's first conv layer, 6 kernels of 3×3, each painted.
    await app.getByTestId('tab-inside').click()
    await app.getByTestId('inside-run').selectOption(runId)
    await app.getByTestId('inside-tab-filters').click()
    const kernels = app.getByTestId('filters-layer-0').getByTestId('filter-kernel')
    await expect(kernels).toHaveCount(6, { timeout: 30_000 })
    for (let i = 0; i < 6; i++) expect(await painted(kernels.nth(i))).toBe(9)
  })
})
