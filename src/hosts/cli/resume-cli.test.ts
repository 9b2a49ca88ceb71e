import { afterAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ENGINE_TS, ROOT, runCli, tempDir } from '../../../test/helpers'

const POLL_MS = 50

/** The epoch of a run folder's checkpoint, or 0 while it has none. */
function checkpointEpoch(runDir: string): number {
  try {
    return (JSON.parse(readFileSync(join(runDir, 'model', 'model.json'), 'utf8')) as { epoch: number }).epoch
  } catch {
    return 0
  }
}

// The whole CLI (and with it the engine) is killed mid-training; `train --resume` finishes the run.
describe('cnn-workbench train --resume', () => {
  const home = tempDir()
  afterAll(() => home.cleanup())

  it('goes on from the checkpoint after SIGKILL, appending epochs 2.. to the same run folder', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/hosts/cli/main.ts'), 'train', '--preset', 'lenet', '--dataset', 'mnist', '--epochs', '3', '--limit', '600', '--batch-size', '32', '--backend', 'wasm', '--json'],
      { cwd: ROOT, env: { ...process.env, CNN_WORKBENCH_HOME: home.dir, CNN_WORKBENCH_ENGINE: ENGINE_TS } }
    )
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    const exited = new Promise((r) => child.once('exit', r))
    let runDir = ''
    const deadline = Date.now() + 180_000
    while (Date.now() < deadline) {
      const start = stdout.split('\n').find((l) => l.includes('"event":"start"'))
      if (start) runDir = (JSON.parse(start) as { runDir: string }).runDir
      if (runDir && checkpointEpoch(runDir) >= 1) break
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
    child.kill('SIGKILL')
    await exited
    const savedEpoch = checkpointEpoch(runDir)
    expect(savedEpoch).toBeGreaterThanOrEqual(1)
    expect(savedEpoch).toBeLessThan(3)

    const r = runCli(home.dir, ['train', '--resume', runDir, '--json'])
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    const epochs = r.lines.filter((l) => l.event === 'epoch').map((l) => l.epoch)
    expect(epochs[0]).toBe(savedEpoch + 1)
    expect(epochs.at(-1)).toBe(3)
    const done = r.lines.find((l) => l.event === 'done')
    expect(done).toMatchObject({ status: 'completed', testCount: 10_000, runDir })
    expect((done?.confusionMatrix as number[][]).flat().reduce((a, b) => a + b, 0)).toBe(10_000)
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2, 3])

    const again = runCli(home.dir, ['train', '--resume', runDir, '--json'])
    expect(again.code).not.toBe(0)
    expect(again.stdout + again.stderr).toMatch(/completed/)
    const outside = runCli(home.dir, ['train', '--resume', home.dir, '--json'])
    expect(outside.stdout + outside.stderr).toMatch(/--resume takes a run folder inside/)
  }, 300_000)
})
