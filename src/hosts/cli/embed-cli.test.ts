import { afterAll, describe, expect, it } from 'vitest'
import { runCli, tempDir, type CliResult } from '../../../test/helpers'

const home = tempDir('cnnwb-cli-embed-')
afterAll(() => home.cleanup())

const cli = (...args: string[]): CliResult => runCli(home.dir, args)

describe('cnn-workbench embed', () => {
  it('prints one JSON line of 2-D points and labels for a layer of a trained run; bad flags get a clear error', () => {
    const train = cli('train', '--preset', 'lenet', '--dataset', 'mnist', '--limit', '1000', '--epochs', '1', '--json')
    expect(train.code).toBe(0)
    const runDir = (train.lines.find((l) => l.event === 'done') as { runDir: string }).runDir

    const pca = cli('embed', '--run', runDir, '--layer', '6', '--method', 'pca', '--points', '300', '--json')
    expect(pca.code).toBe(0)
    expect(pca.lines).toHaveLength(1)
    const out = pca.lines[0] as { points: number[][]; labels: number[]; layer: number; method: string }
    expect(Object.keys(out)).toEqual(['points', 'labels', 'layer', 'method'])
    expect(out).toMatchObject({ layer: 6, method: 'pca' })
    expect(out.points).toHaveLength(300)
    expect(out.points.every((p) => p.length === 2 && p.every(Number.isFinite))).toBe(true)
    expect(out.labels).toHaveLength(300)

    const tsne = cli('embed', '--run', runDir, '--layer', '5', '--points', '200', '--iterations', '300')
    expect(tsne.code).toBe(0)
    expect(tsne.stdout).toMatch(/t-SNE of layer 5 \(120 values\) on 200 mnist test images/)

    const bad = cli('embed', '--run', runDir, '--layer', '99', '--json')
    expect(bad.code).toBe(1)
    expect(bad.lines[0]).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(String(bad.lines[0].message)).toMatch(/layers 0 to 7/)
    const notRun = cli('embed', '--run', home.dir, '--layer', '1')
    expect(notRun.code).toBe(1)
    expect(notRun.stderr).toMatch(/not a run folder/)
  })
})
