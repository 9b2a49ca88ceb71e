import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync, cpSync, truncateSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, tempDir, type CliResult } from '../../../test/helpers'

const PYTHON = '/usr/bin/python3'
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { timeout: 300_000 }).status === 0
const home = tempDir('cnnwb-cli-pytorch-')
afterAll(() => home.cleanup())
const cli = (...args: string[]): CliResult => runCli(home.dir, args, 900_000)
const SUBSET = '300'
// torch 1.13's launcher on Python 3.11 crashes on its default --redirects/--tee 0 (an IntFlag change); 2 sidesteps it.
const TORCHRUN = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2']

/** Runs python in `cwd`; its JSON lines. */
function py(cwd: string, args: string[]): { code: number | null; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(PYTHON, args, { cwd, encoding: 'utf8', timeout: 1_200_000, maxBuffer: 64 * 1024 * 1024 })
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  return { code: r.status, lines, stderr: r.stderr }
}

const done = (lines: Record<string, unknown>[]) => lines.find((l) => l.event === 'done') as Record<string, unknown> & { testAccuracy: number }

describe.skipIf(!hasTorch)('PyTorch project: export, train alone and under torchrun, import, evaluate', () => {
  const project = join(home.dir, 'project')
  it('exports, trains with torchrun (2 processes), imports, and our evaluation equals PyTorch\'s; the run exported back evaluates the same in PyTorch', { timeout: 3_600_000 }, () => {
    const exported = cli('export', '--preset', 'lenet', '--format', 'pytorch-project', '--dataset', 'mnist', '--limit', SUBSET, '--epochs', '1', '--batch-size', '16', '--out', project, '--json')
    expect(exported.code, exported.stderr).toBe(0)
    expect(readdirSync(project).sort()).toEqual(['README.md', 'model.py', 'run.json', 'train.py'])
    const recipe = JSON.parse(readFileSync(join(project, 'run.json'), 'utf8')) as { dataset: { files: Array<{ sha256: string }> } }
    expect(recipe.dataset.files).toHaveLength(4)

    // Alone, one process: the same start/epoch/done lines as `cnn-workbench train --json`.
    const alone = py(project, ['train.py', '--json', '--out', join(home.dir, 'alone')])
    expect(alone.code, alone.stderr).toBe(0)
    expect(alone.lines.map((l) => l.event)).toEqual(['start', 'epoch', 'done'])
    expect(alone.lines[0]).toMatchObject({ worldSize: 1, trainCount: 300, validationCount: 6000 })
    expect(alone.lines[1]).toMatchObject({ epoch: 1, learningRate: 0.003 })
    for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'seconds', 'samplesPerSecond']) expect(typeof alone.lines[1][key]).toBe('number')
    expect(existsSync(join(home.dir, 'alone', 'checkpoint.safetensors'))).toBe(true)

    // torchrun, 2 processes (gloo on this CPU): rank 0 writes the run.
    const out = join(home.dir, 'torchrun')
    const ddp = py(project, [...TORCHRUN, 'train.py', '--json', '--out', out])
    expect(ddp.code, ddp.stderr).toBe(0)
    expect(ddp.lines.filter((l) => l.event === 'start')).toHaveLength(1)
    expect(ddp.lines[0]).toMatchObject({ worldSize: 2, batchPerProcess: 8, globalBatch: 16 })
    const torchDone = done(ddp.lines)
    const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { trainedBy: Record<string, unknown> }
    expect(record.trainedBy).toMatchObject({ engine: 'pytorch', device: 'cpu', worldSize: 2 })
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1)

    // A damaged weights file is refused by name and nothing is imported.
    const broken = join(home.dir, 'broken')
    cpSync(out, broken, { recursive: true })
    truncateSync(join(broken, 'weights.safetensors'), statSync(join(broken, 'weights.safetensors')).size - 100)
    const refused = cli('runs', 'import', broken, '--json')
    expect(refused.code).toBe(1)
    expect(refused.lines[0]).toMatchObject({ event: 'error', code: 'INVALID_MODEL' })
    expect(String(refused.lines[0].message)).toMatch(/tensor layers\.\d+\.(weight|bias)/)
    expect(cli('runs', '--json').lines).toHaveLength(0)

    const imported = cli('runs', 'import', out, '--json')
    expect(imported.code, imported.stderr).toBe(0)
    const runId = String(imported.lines[0].runId)
    expect(imported.lines[0]).toMatchObject({ trainedBy: { engine: 'pytorch', worldSize: 2 } })
    const ours = cli('evaluate', runId, '--json')
    expect(ours.code, ours.stderr).toBe(0)
    const evaluation = ours.lines[0] as { testAccuracy: number; confusionMatrix: number[][] }
    expect(Math.abs(evaluation.testAccuracy - torchDone.testAccuracy)).toBeLessThanOrEqual(0.001)
    expect(evaluation.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(10_000)

    // And back: the imported run exported with its weights; PyTorch evaluates them alone.
    const back = join(home.dir, 'back')
    const again = cli('runs', 'export', runId, '--format', 'pytorch', '--out', back, '--json')
    expect(again.code, again.stderr).toBe(0)
    expect(existsSync(join(back, 'weights.safetensors'))).toBe(true)
    const evalOnly = py(back, ['train.py', '--evaluate-only', '--json'])
    expect(evalOnly.code, evalOnly.stderr).toBe(0)
    expect(Math.abs(done(evalOnly.lines).testAccuracy - evaluation.testAccuracy)).toBeLessThanOrEqual(0.001)

    // Other data files than the recorded ones are refused before training.
    const other = py(project, ['train.py', '--json', '--data', '/usr/share/datasets/fashion-mnist', '--out', join(home.dir, 'other')])
    if (existsSync('/usr/share/datasets/fashion-mnist')) {
      expect(other.code).toBe(1)
      expect(other.lines[0]).toMatchObject({ event: 'error', code: 'DATASET_ERROR' })
      expect(existsSync(join(home.dir, 'other'))).toBe(false)
    }
  })

  it('writes a notebook (nbformat 4) whose code cells run as a script on a small subset', { timeout: 1_800_000 }, () => {
    const file = join(home.dir, 'lenet.ipynb')
    const r = cli('export', '--preset', 'lenet', '--format', 'notebook', '--dataset', 'mnist', '--limit', '200', '--epochs', '1', '--val-split', '0.02', '--out', file, '--json')
    expect(r.code, r.stderr).toBe(0)
    const nb = JSON.parse(readFileSync(file, 'utf8')) as { nbformat: number; nbformat_minor: number; metadata: { kernelspec: { language: string } }; cells: Array<{ cell_type: string; source: string[]; outputs?: unknown[]; id: string }> }
    expect(nb.nbformat).toBe(4)
    expect(nb.metadata.kernelspec.language).toBe('python')
    expect(new Set(nb.cells.map((c) => c.cell_type))).toEqual(new Set(['markdown', 'code']))
    for (const c of nb.cells) {
      expect(Array.isArray(c.source) && c.source.every((l) => typeof l === 'string')).toBe(true)
      if (c.cell_type === 'code') expect(c.outputs).toEqual([])
    }
    const script = nb.cells.filter((c) => c.cell_type === 'code').map((c) => c.source.join('')).join('\n\n')
    const path = join(home.dir, 'notebook.py')
    writeFileSync(path, script)
    const run = spawnSync(PYTHON, [path], { cwd: home.dir, encoding: 'utf8', timeout: 1_200_000 })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/training\s+\[/)
    expect(run.stdout).toMatch(/epoch 1: train loss/)
    expect(run.stdout).toMatch(/test accuracy \d+\.\d\d %, test loss [\d.]+ on 10000 images/)
    expect(run.stdout).toMatch(/rows: true class, columns: predicted class/)
    expect(existsSync(join(home.dir, 'weights.safetensors'))).toBe(true)
  })
})
