import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ENGINE_TS, ROOT, tempDir } from '../../test/helpers'

const home = tempDir('cnnwb-cli-embed-')
afterAll(() => home.cleanup())

/** Runs the real CLI (TypeScript through tsx) on a fresh data folder. */
function cli(...args: string[]): { code: number | null; stdout: string; stderr: string; lines: Record<string, unknown>[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CNN_WORKBENCH_HOME: home.dir, CNN_WORKBENCH_ENGINE: ENGINE_TS },
    timeout: 180_000
  })
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines }
}

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
