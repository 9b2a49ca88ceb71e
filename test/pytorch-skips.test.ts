import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, tempDir } from './helpers'

const TORCH_FILES = ['src/shared/model/pytorch-parity.test.ts', 'src/shared/export/pytorch.test.ts']
/** Tests in TORCH_FILES that need PyTorch itself. */
const TORCH_TESTS = 3

interface JsonReport {
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>
}

function runWith(python: string, dir: string): JsonReport {
  const outputFile = join(dir, `report-${Math.random().toString(36).slice(2)}.json`)
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...TORCH_FILES, '--reporter=json', `--outputFile=${outputFile}`],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CNN_WORKBENCH_PYTHON: python }, timeout: 300_000 }
  )
  try {
    return JSON.parse(readFileSync(outputFile, 'utf8')) as JsonReport
  } catch {
    throw new Error(`the nested vitest run wrote no report: ${r.stdout}${r.stderr}`)
  }
}

// A machine without PyTorch: the tests that need it say "skipped", never "passed" on a fallback.
describe('PyTorch-dependent tests', () => {
  it('report themselves as skipped where PyTorch is absent', () => {
    const tmp = tempDir()
    try {
      // Python without torch: `import torch` fails, everything else runs as usual.
      const python = join(tmp.dir, 'python-without-torch')
      writeFileSync(
        python,
        '#!/bin/sh\nfor a in "$@"; do case "$a" in *"import torch"*) echo "No module named torch" >&2; exit 1;; esac; done\nexec /usr/bin/python3 "$@"\n'
      )
      chmodSync(python, 0o755)
      const report = runWith(python, tmp.dir)
      const skipped = report.testResults.flatMap((f) => f.assertionResults).filter((t) => t.status !== 'passed' && t.status !== 'failed')
      expect(report.numFailedTests).toBe(0)
      expect(report.numPendingTests, skipped.map((t) => t.title).join('; ')).toBe(TORCH_TESTS)
      expect(report.numPassedTests).toBeGreaterThan(0)
    } finally {
      tmp.cleanup()
    }
  }, 300_000)
})
