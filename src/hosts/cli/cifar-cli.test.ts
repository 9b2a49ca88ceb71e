import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { runCli, tempDir } from '../../../test/helpers'
import { writeCifarArchive } from '../../data/datasets/testing/fixtures'

const home = tempDir('cnnwb-cifar-cli-')
afterAll(() => home.cleanup())

describe('CIFAR-10 from its binary archive, through the CLI', () => {
  it('imports cifar-10-binary.tar.gz, inspects it, and trains cifar-convnet on it', async () => {
    const archive = join(home.dir, 'cifar-10-binary.tar.gz')
    await writeCifarArchive(archive, 40)
    const imported = runCli(home.dir, ['dataset', 'import', archive, '--json'])
    expect(imported.code).toBe(0)
    const inspect = runCli(home.dir, ['dataset', 'inspect', 'cifar-10', '--json'])
    expect(inspect.code).toBe(0)
    expect(inspect.lines[0]).toMatchObject({
      name: 'cifar-10',
      shape: [3, 32, 32],
      classes: expect.arrayContaining(['airplane', 'truck']),
      train: { count: 200 },
      test: { count: 40 }
    })
    const train = runCli(home.dir, ['train', '--preset', 'cifar-convnet', '--dataset', 'cifar-10', '--epochs', '1', '--json'])
    expect(train.code).toBe(0)
    expect(train.lines[0]).toMatchObject({ event: 'start', params: 296_426 })
    expect(train.lines.at(-1)).toMatchObject({ event: 'done', status: 'completed', testCount: 40 })
    // A preset made for 28 × 28 digits adapts its input to colour 32 × 32 images and says so.
    const lenet = runCli(home.dir, ['train', '--preset', 'lenet', '--dataset', 'cifar-10', '--epochs', '1', '--json'])
    expect(lenet.code).toBe(0)
    expect(lenet.stderr).toMatch(/3×32×32|3 × 32 × 32/)
  })
})
