import { afterAll, describe, expect, it, vi } from 'vitest'
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  MODEL_DIR,
  checkpointDir,
  checkpointMtimeMs,
  copyCheckpoint,
  readCheckpoint,
  readCheckpointEpoch,
  readRunRecord,
  writeCheckpoint
} from './run-folder'
import { getPreset } from '../../shared/model/presets'
import type { WeightTensor } from '../../shared/engine-protocol'
import { tempDir } from '../../../test/helpers'

/**
 * A kill switch on every call that changes the disk: after `after` such calls the process is
 * "killed": that call and every later one fail, so no cleanup runs, as after a real SIGKILL.
 */
const kill = vi.hoisted(() => ({ after: null as number | null, calls: 0, dead: false }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>()
  const guard =
    <F extends (...args: never[]) => Promise<unknown>>(f: F): F =>
    (async (...args: Parameters<F>) => {
      if (kill.dead) throw new Error('killed')
      kill.calls++
      if (kill.after !== null && kill.calls > kill.after) {
        kill.dead = true
        throw new Error('killed')
      }
      return f(...args)
    }) as F
  return {
    ...actual,
    open: guard(actual.open),
    rename: guard(actual.rename),
    rm: guard(actual.rm),
    mkdir: guard(actual.mkdir),
    appendFile: guard(actual.appendFile),
    cp: guard(actual.cp)
  }
})

function arm(after: number | null): void {
  kill.after = after
  kill.calls = 0
  kill.dead = false
}

const spec = getPreset('mlp').spec
/** Weights and optimizer state that all hold `epoch`, so a mix of two checkpoints shows. */
function tensorsOf(epoch: number): { weights: WeightTensor[]; optimizer: WeightTensor[] } {
  const t = (name: string, size: number): WeightTensor => ({ name, shape: [size], data: new Float32Array(size).fill(epoch) })
  return { weights: [t('w0', 6), t('w1', 3)], optimizer: [t('step', 1), t('m0', 6)] }
}
const save = (dir: string, epoch: number): Promise<void> => {
  const { weights, optimizer } = tensorsOf(epoch)
  return writeCheckpoint(dir, spec, weights, epoch, optimizer)
}
/** The checkpoint's epoch if it is whole and consistent (every value equals it), else null. */
async function wholeEpoch(dir: string): Promise<number | null> {
  const c = await readCheckpoint(dir).catch(() => null)
  if (!c) return null
  const values = [...c.weights, ...c.optimizer].flatMap((w) => [...w.data])
  return values.every((v) => v === c.epoch) && c.weights.length === 2 && c.optimizer.length === 2 ? c.epoch : null
}

const tmp = tempDir('cnnwb-run-folder-')
afterAll(() => tmp.cleanup())

describe('the checkpoint swap', () => {
  it('loses no run when killed at any step of replacing model/, and resumes from what it left', async () => {
    const steps: Array<{ after: number; left: number | null; onlyOld: boolean; resumed: number | null }> = []
    let completed = false
    for (let after = 0; !completed && after < 100; after++) {
      const dir = join(tmp.dir, `kill-${after}`)
      mkdirSync(dir, { recursive: true })
      arm(null)
      await save(dir, 1)
      arm(after)
      completed = await save(dir, 2).then(
        () => true,
        () => false
      )
      arm(null)
      const onlyOld = !existsSync(join(dir, MODEL_DIR)) && existsSync(join(dir, `${MODEL_DIR}.old`))
      const left = await wholeEpoch(dir)
      expect(await readCheckpointEpoch(dir)).toBe(left)
      // Resuming trains on from the checkpoint left and saves the next one over it.
      await save(dir, 3)
      steps.push({ after, left, onlyOld, resumed: await wholeEpoch(dir) })
      expect(readdirSync(dir).sort()).toEqual([MODEL_DIR])
    }
    expect(completed).toBe(true)
    const lost = steps.filter((s) => s.left === null || s.resumed !== 3)
    expect(lost).toEqual([])
    // Every kill leaves the previous checkpoint until the second rename, the new one after it.
    const firstNew = steps.findIndex((s) => s.left === 2)
    expect(firstNew).toBeGreaterThan(0)
    expect(steps.slice(0, firstNew).every((s) => s.left === 1)).toBe(true)
    expect(steps.slice(firstNew).every((s) => s.left === 2)).toBe(true)
    // The instant the issue names was among them: model/ gone, only model.old/ left.
    expect(steps.filter((s) => s.onlyOld).map((s) => s.left)).toEqual([1])
  })

  it('reads, times, copies and restores from model.old/ when killed between the two renames', async () => {
    const dir = join(tmp.dir, 'between')
    mkdirSync(dir, { recursive: true })
    await save(dir, 4)
    // The state the swap leaves between `rename(model, model.old)` and `rename(model.next, model)`.
    renameSync(join(dir, MODEL_DIR), join(dir, `${MODEL_DIR}.old`))
    mkdirSync(join(dir, `${MODEL_DIR}.next`))
    writeFileSync(join(dir, `${MODEL_DIR}.next`, 'weights.bin'), new Uint8Array(8))
    expect(await checkpointDir(dir)).toBe(join(dir, `${MODEL_DIR}.old`))
    expect(await wholeEpoch(dir)).toBe(4)
    expect(await checkpointMtimeMs(dir)).toBeGreaterThan(0)
    const branch = join(tmp.dir, 'between-branch')
    mkdirSync(branch)
    await copyCheckpoint(dir, branch)
    expect(await wholeEpoch(branch)).toBe(4)
    // Reading renames nothing (the engine reads while main writes); the next write restores it.
    expect(existsSync(join(dir, MODEL_DIR))).toBe(false)
    await save(dir, 5)
    expect(await wholeEpoch(dir)).toBe(5)
    expect(readdirSync(dir).sort()).toEqual([MODEL_DIR])
  })

  it('says a run without a checkpoint has none', async () => {
    const dir = join(tmp.dir, 'empty')
    mkdirSync(dir)
    await expect(readCheckpoint(dir)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await readCheckpointEpoch(dir)).toBeNull()
    expect(await checkpointMtimeMs(dir)).toBe(-1)
  })
})

describe('run.json', () => {
  it('is null when absent and a typed error when damaged, even when not JSON', async () => {
    const dir = join(tmp.dir, 'record')
    mkdirSync(dir)
    expect(await readRunRecord(dir)).toBeNull()
    writeFileSync(join(dir, 'run.json'), '{"id": ')
    await expect(readRunRecord(dir)).rejects.toMatchObject({ code: 'IO_ERROR' })
  })
})
