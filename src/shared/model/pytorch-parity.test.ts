import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PRESETS } from './presets'
import { summarizeModel } from './shape-inference'
import { modelSpecSchema } from './spec'
import type { ModelSpec } from './spec'
import { randomSpecs } from './random-spec'

/** What testdata/torch_shapes.py reports for one model. */
type TorchResult =
  { shapes: number[][]; params: number[]; nonTrainable: number[] } | { error: string }

interface TorchCase {
  name: string
  spec: ModelSpec
  torch: TorchResult
}

// CNN_WORKBENCH_PYTHON picks another interpreter (test/pytorch-skips.test.ts uses one without torch).
const PYTHON = process.env.CNN_WORKBENCH_PYTHON || '/usr/bin/python3'
const TESTDATA = join(__dirname, 'testdata')
const SCRIPT = join(TESTDATA, 'torch_shapes.py')
const TABLE = join(TESTDATA, 'torch-cases.json')
const RANDOM_VALID_CASES = 300
const RANDOM_ERROR_CASES = 40
const TABLE_RANDOM_CASES = 50

function hasTorch(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 })
  return probe.status === 0
}
const torchAvailable = hasTorch()

function runTorch(specs: ModelSpec[]): TorchResult[] {
  const cases = specs.map((s) => ({ input: s.input, layers: s.layers }))
  const proc = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ cases }),
    encoding: 'utf8',
    timeout: 100_000,
    maxBuffer: 64 * 1024 * 1024
  })
  if (proc.status !== 0) throw new Error(`torch_shapes.py failed: ${proc.stderr}`)
  return JSON.parse(proc.stdout) as TorchResult[]
}


function expectSameAsTorch(spec: ModelSpec, torch: TorchResult): void {
  const summary = summarizeModel(spec)
  const context = `${spec.name}: ${JSON.stringify(spec.layers)}`
  if ('error' in torch) {
    expect(summary.errors.length, `${context} torch: ${torch.error}`).toBeGreaterThan(0)
    expect(summary.outputShape).toBeNull()
    return
  }
  expect(summary.errors, context).toEqual([])
  expect(
    summary.layers.map((l) => l.outputShape),
    context
  ).toEqual(torch.shapes)
  expect(
    summary.layers.map((l) => l.params),
    context
  ).toEqual(torch.params)
  expect(
    summary.layers.map((l) => l.nonTrainableParams),
    context
  ).toEqual(torch.nonTrainable)
}

const presetSpecs = (): ModelSpec[] => PRESETS.map((p) => p.spec)

function expectTable(): void {
  const table = JSON.parse(readFileSync(TABLE, 'utf8')) as TorchCase[]
  expect(table.length).toBeGreaterThanOrEqual(TABLE_RANDOM_CASES)
  expect(table.filter((c) => 'error' in c.torch).length).toBeGreaterThan(0)
  for (const c of table) expectSameAsTorch(modelSpecSchema.parse(c.spec), c.torch)
  const presetTotals = Object.fromEntries(
    table
      .filter((c) => c.name.startsWith('preset:'))
      .map((c) => [c.name, 'params' in c.torch ? c.torch.params.reduce((a, b) => a + b, 0) : 0])
  )
  expect(presetTotals['preset:lenet5']).toBe(61_706)
  expect(presetTotals['preset:cifar-convnet']).toBe(296_426)
  expect(Object.keys(presetTotals)).toHaveLength(PRESETS.length)
}

describe('PyTorch parity', () => {
  it('matches the committed table of real PyTorch 1.13 results', () => {
    expectTable()
  })

  // Needs PyTorch: reported as skipped where it is absent (.ci/run installs it, so CI runs it).
  it.skipIf(!torchAvailable)('matches live PyTorch on 300 random architectures and the presets', () => {
    const seeded = randomSpecs(20_251_124, RANDOM_VALID_CASES, RANDOM_ERROR_CASES)
    const specs = [...seeded, ...presetSpecs()]
    expect(specs.length).toBeGreaterThanOrEqual(RANDOM_VALID_CASES + PRESETS.length)
    const results = runTorch(specs)
    expect(results).toHaveLength(specs.length)
    specs.forEach((spec, i) => expectSameAsTorch(spec, results[i]))
    expect(results.filter((r) => 'error' in r).length).toBeGreaterThan(0)

    // UPDATE_TORCH_CASES=1 rewrites the committed table from this machine's real PyTorch.
    if (process.env.UPDATE_TORCH_CASES === '1') {
      const tableSpecs = [
        ...randomSpecs(7, TABLE_RANDOM_CASES - 10, 10),
        ...presetSpecs().map((s) => ({ ...s, name: `preset:${s.name}` }))
      ]
      const tableResults = runTorch(tableSpecs)
      const table: TorchCase[] = tableSpecs.map((spec, i) => ({
        name: spec.name,
        spec,
        torch: tableResults[i]
      }))
      writeFileSync(TABLE, `${JSON.stringify(table, null, 1)}\n`)
    }
  })
})
