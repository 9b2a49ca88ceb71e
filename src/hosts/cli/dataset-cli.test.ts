import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { runCli, tempDir, type CliResult } from '../../../test/helpers'
import { writeIdxFolder } from '../../data/datasets/testing/fixtures'

const home = tempDir('cnnwb-dataset-cli-')
afterAll(() => home.cleanup())

const cli = (...args: string[]): CliResult => runCli(home.dir, args, 60_000)

describe('cnn-workbench dataset', () => {
  it('inspect mnist --json reports the real per-class counts of both splits', () => {
    const r = cli('dataset', 'inspect', 'mnist', '--json')
    expect(r.code).toBe(0)
    expect(r.lines[0]).toEqual({
      name: 'mnist',
      shape: [1, 28, 28],
      classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      train: {
        count: 60_000,
        perClass: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
      },
      test: { count: 10_000, perClass: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009] }
    })
  })

  it('import copies a folder of IDX .gz files under a name that train and inspect accept', async () => {
    const folder = await writeIdxFolder(join(home.dir, 'src-set'), { gzip: true, trainCount: 30 })
    const r = cli('dataset', 'import', folder, '--name', 'my-digits', '--json')
    expect(r.code).toBe(0)
    expect(r.lines[0]).toMatchObject({ event: 'imported', name: 'my-digits', trainCount: 30, testCount: 10 })
    const listed = cli('datasets', '--json').lines[0] as { datasets: { name: string; available: boolean }[] }
    expect(listed.datasets).toContainEqual(expect.objectContaining({ name: 'my-digits', available: true }))
    expect(cli('dataset', 'inspect', 'my-digits', '--json').lines[0]).toMatchObject({ train: { count: 30 } })
    const text = cli('dataset', 'import', folder, '--name', 'other')
    expect(text.stdout).toMatch(/Imported other: 30 training and 10 test images of 1 × 28 × 28/)
  })

  it('import of a path without dataset files fails with DATASET_ERROR naming the path', () => {
    const r = cli('dataset', 'import', join(home.dir, 'nothing-here'), '--json')
    expect(r.code).toBe(1)
    expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'DATASET_ERROR' })
    expect(String(r.lines.at(-1)?.message)).toContain('nothing-here')
    expect(cli('dataset', 'export', 'x', '--json').lines.at(-1)).toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('train --normalize refuses an unknown choice and names the flag', () => {
    const r = cli('train', '--preset', 'lenet', '--dataset', 'mnist', '--normalize', 'zscore', '--json')
    expect(r.code).toBe(1)
    expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(String(r.lines.at(-1)?.message)).toMatch(/--normalize/)
    expect(String(r.lines.at(-1)?.message)).toMatch(/dataset/)
  })
})
