import { afterAll, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, tempDir, type CliResult } from '../../../test/helpers'

const home = tempDir('cnnwb-cli-')
afterAll(() => home.cleanup())

const cli = (...args: string[]): CliResult => runCli(home.dir, args)

describe('cnn-workbench CLI', () => {
  it('summary --json reports PyTorch shapes and 106,154 parameters for lenet', () => {
    const r = cli('summary', '--preset', 'lenet', '--json')
    expect(r.code).toBe(0)
    const s = r.lines[0] as { layers: { type: string; outputShape: number[]; params: number }[]; totalParams: number; trainableParams: number }
    expect(s.totalParams).toBe(106_154)
    expect(s.trainableParams).toBe(106_154)
    expect(s.layers.map((l) => l.outputShape)).toEqual([[6, 28, 28], [6, 14, 14], [16, 14, 14], [16, 7, 7], [784], [120], [84], [10]])
    expect(s.layers[0]).toEqual({ type: 'conv2d', outputShape: [6, 28, 28], params: 60 })
  })

  it('summary prints a readable table without --json', () => {
    const r = cli('summary', '--preset', 'lenet')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Total params: 106,154/)
    expect(r.stdout).toMatch(/16 × 7 × 7/)
  })

  it('reads a model file', () => {
    const file = join(home.dir, 'tiny.json')
    writeFileSync(
      file,
      JSON.stringify({
        format: 'cnn-workbench.model/1',
        name: 'Tiny',
        input: { channels: 1, height: 28, width: 28 },
        layers: [{ type: 'conv2d', filters: 6, kernelSize: 3, stride: 1, padding: 1, activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10 }]
      })
    )
    const r = cli('summary', '--model', file, '--json')
    expect(r.code).toBe(0)
    expect(r.lines[0]).toMatchObject({ totalParams: 60 + 6 * 14 * 14 * 10 + 10 })
  })

  it.each([
    [['summary', '--preset', 'nope', '--json'], 'UNKNOWN_PRESET', /Choose one of: .*lenet/],
    [['summary', '--model', '/nonexistent/model.json', '--json'], 'INVALID_MODEL', /Check the path/],
    [['train', '--preset', 'lenet', '--dataset', 'nosuchset', '--json'], 'UNKNOWN_DATASET', /mnist/],
    [['train', '--preset', 'lenet', '--dataset', 'mnist', '--lr', '-0.1', '--json'], 'BAD_REQUEST', /--lr/],
    [['train', '--preset', 'lenet', '--dataset', 'mnist', '--epochs', 'many', '--json'], 'BAD_REQUEST', /--epochs must be a number/],
    [['train', '--preset', 'lenet', '--json'], 'BAD_REQUEST', /--dataset/],
    [['train', '--preset', 'lenet', '--dataset', 'mnist', '--bogus', '--json'], 'BAD_REQUEST', /bogus/],
    [['frobnicate', '--json'], 'BAD_REQUEST', /Unknown command/]
  ])('%j fails with %s, a clear message and a non-zero exit', (args, code, message) => {
    const r = cli(...(args as string[]))
    expect(r.code).not.toBe(0)
    const last = r.lines.at(-1)
    expect(last).toMatchObject({ event: 'error', code })
    expect(String(last?.message)).toMatch(message as RegExp)
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(/)
  })

  it('a damaged model file names the problem', () => {
    const file = join(home.dir, 'bad.json')
    writeFileSync(file, '{"format":"cnn-workbench.model/1","name":"x","input":{"channels":1,"height":28,"width":28},"layers":[{"type":"conv2d","filters":-3')
    const r = cli('summary', '--model', file, '--json')
    expect(r.code).toBe(1)
    expect(r.lines.at(-1)).toMatchObject({ event: 'error', code: 'INVALID_MODEL' })
    expect(String(r.lines.at(-1)?.message)).toMatch(/bad\.json/)
  })

  it('trains lenet on 2,000 MNIST images for one epoch: start, epoch and done lines, test accuracy > 0.8', () => {
    // Batch 16: the default batch of 64 takes only 28 steps on 2,000 images, too few for 80 %.
    const r = cli('train', '--preset', 'lenet', '--dataset', 'mnist', '--limit', '2000', '--epochs', '1', '--batch-size', '16', '--json')
    expect(r.code).toBe(0)
    const [start, epoch, done] = r.lines
    expect(start).toMatchObject({ event: 'start', params: 106_154, backend: expect.stringMatching(/wasm|cpu|tensorflow|webgpu/) })
    expect(epoch).toMatchObject({ event: 'epoch', epoch: 1, loss: expect.any(Number), accuracy: expect.any(Number), valLoss: expect.any(Number), valAccuracy: expect.any(Number), seconds: expect.any(Number), samplesPerSecond: expect.any(Number) })
    expect(done).toMatchObject({ event: 'done', testCount: 10_000, runDir: expect.stringContaining(home.dir) })
    expect(done.testAccuracy as number).toBeGreaterThan(0.8)
  })
})
