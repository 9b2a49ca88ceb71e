import { afterAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, tempDir, type CliResult } from '../../../test/helpers'

const home = tempDir('cnnwb-cli-eval-')
afterAll(() => home.cleanup())

const cli = (...args: string[]): CliResult => runCli(home.dir, args)

describe('cnn-workbench train and runs: test-split evaluation', () => {
  it('train --json ends with per-class accuracy and a confusion matrix over all 10,000 test images', () => {
    // Batch 16: the default batch of 64 takes only 28 steps on 2,000 images, too few for 80 %.
    const r = cli('train', '--preset', 'lenet', '--dataset', 'mnist', '--limit', '2000', '--epochs', '1', '--batch-size', '16', '--json')
    expect(r.code).toBe(0)
    const done = r.lines.find((l) => l.event === 'done') as {
      testAccuracy: number
      testCount: number
      perClassAccuracy: number[]
      confusionMatrix: number[][]
      runDir: string
    }
    expect(done.testAccuracy).toBeGreaterThan(0.8)
    expect(done.perClassAccuracy).toHaveLength(10)
    expect(done.confusionMatrix).toHaveLength(10)
    for (const row of done.confusionMatrix) expect(row).toHaveLength(10)
    const sum = done.confusionMatrix.flat().reduce((a, b) => a + b, 0)
    expect(sum).toBe(10_000)
    // Per-class accuracy is the diagonal over the row; the diagonal over all is the test accuracy.
    done.confusionMatrix.forEach((row, i) => {
      expect(done.perClassAccuracy[i]).toBeCloseTo(row[i] / row.reduce((a, b) => a + b, 0), 10)
    })
    const diagonal = done.confusionMatrix.reduce((a, row, i) => a + row[i], 0)
    expect(diagonal / 10_000).toBeCloseTo(done.testAccuracy, 10)
    const stored = JSON.parse(readFileSync(join(done.runDir, 'evaluation.json'), 'utf8')) as { confusionMatrix: number[][] }
    expect(stored.confusionMatrix).toEqual(done.confusionMatrix)

    const runs = cli('runs', '--json')
    expect(runs.code).toBe(0)
    expect(runs.lines).toHaveLength(1)
    expect(runs.lines[0]).toMatchObject({ status: 'completed', dataset: 'mnist', params: 106_154, testAccuracy: done.testAccuracy })
    const text = cli('runs')
    expect(text.stdout).toMatch(/completed\s+mnist\s+106,154 params\s+test\s+\d+\.\d\d %/)
  })

  it.each(['none', 'dataset', 'sample'])(
    'evaluation scales inputs as training did (--normalize %s): the matrix agrees with the trainer',
    (mode) => {
      const r = cli('train', '--preset', 'lenet', '--dataset', 'mnist', '--limit', '1000', '--epochs', '1', '--normalize', mode, '--json')
      expect(r.code).toBe(0)
      const done = r.lines.find((l) => l.event === 'done') as { testAccuracy: number; confusionMatrix: number[][] }
      const diagonal = done.confusionMatrix.reduce((a, row, i) => a + row[i], 0)
      expect(diagonal / 10_000).toBeCloseTo(done.testAccuracy, 10)
      expect(done.testAccuracy).toBeGreaterThan(0.5)
    }
  )
})
