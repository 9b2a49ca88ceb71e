import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { planSplit } from './data'
import { planStratifiedSplit } from './preprocess'
import { seededRandom } from '../shared/random'
import { TRAIN_PY } from '../shared/export/templates/train-py'

const PYTHON = '/usr/bin/python3'
const TRAIN = join(__dirname, '..', 'shared', 'export', 'templates', 'train.py')
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { timeout: 300_000 }).status === 0

/** Runs a snippet with train.py imported as `train`; its stdout as JSON. */
function python(snippet: string, input: unknown): unknown {
  const script = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("train", ${JSON.stringify(TRAIN)})
train = importlib.util.module_from_spec(spec); spec.loader.exec_module(train)
args = json.loads(sys.stdin.read())
${snippet}`
  const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout)
}

/** Labels with uneven classes, seeded, so stratified quotas need their largest-remainder step. */
function labelsOf(count: number, classes: number, seed: number): number[] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, () => Math.min(classes - 1, Math.floor(random() ** 1.5 * classes)))
}

const CASES = [
  { count: 1000, split: 0.1, seed: 0, limit: undefined },
  { count: 997, split: 0.25, seed: 42, limit: 300 },
  { count: 60000, split: 0.1, seed: 7, limit: 1000 },
  { count: 5, split: 0.5, seed: 2 ** 31 - 1, limit: undefined },
  { count: 333, split: 0, seed: 123, limit: 50 }
]

describe('train.py', () => {
  it('is the text the exported projects carry (run `node scripts/gen-train-py.js` after editing train.py)', () => {
    expect(TRAIN_PY).toBe(readFileSync(TRAIN, 'utf8'))
  })

  it.skipIf(!hasTorch)('draws the same mulberry32 numbers as the workbench', () => {
    const seeds = [0, 1, 0x5eed, 2 ** 31 - 1, 123456789]
    const ours = seeds.map((s) => {
      const r = seededRandom(s)
      return Array.from({ length: 50 }, () => r())
    })
    const theirs = python('r = [train.Mulberry32(s) for s in args]\nprint(json.dumps([[g() for _ in range(50)] for g in r]))', seeds)
    expect(theirs).toEqual(ours)
  })

  it.skipIf(!hasTorch)('picks the same training and validation indices (file order and stratified) for each seed, size and limit', () => {
    const input = CASES.map((c, i) => ({ ...c, labels: labelsOf(c.count, 10, i + 1) }))
    const theirs = python(
      `out = []
for c in args:
    t, v = train.plan_split(c["count"], c["split"], c["seed"], c.get("limit"))
    st, sv = train.plan_stratified_split(c["labels"], 10, c["split"], c["seed"], c.get("limit"))
    out.append([t, v, st, sv])
print(json.dumps(out))`,
      input
    ) as number[][][]
    input.forEach((c, i) => {
      const plain = planSplit(c.count, c.split, c.seed, c.limit)
      const strat = planStratifiedSplit(Uint8Array.from(c.labels), c.count, 10, c.split, c.seed, c.limit)
      expect(theirs[i][0], `plain train ${JSON.stringify(CASES[i])}`).toEqual(Array.from(plain.train))
      expect(theirs[i][1], `plain validation ${JSON.stringify(CASES[i])}`).toEqual(Array.from(plain.validation))
      expect(theirs[i][2], `stratified train ${JSON.stringify(CASES[i])}`).toEqual(Array.from(strat.train))
      expect(theirs[i][3], `stratified validation ${JSON.stringify(CASES[i])}`).toEqual(Array.from(strat.validation))
    })
  })
})
