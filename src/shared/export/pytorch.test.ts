import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { WorkbenchError } from '../contract/errors'
import { getPreset, PRESETS } from '../model/presets'
import { summarizeModel } from '../model/shape-inference'
import { MODEL_FORMAT, modelSpecSchema } from '../model/spec'
import type { InputShape, LayerInput, ModelSpec } from '../model/spec'
import { exportKeras } from './keras'
import { exportPytorch } from './pytorch'

// CNN_WORKBENCH_PYTHON picks another interpreter (test/pytorch-skips.test.ts uses one without torch).
const PYTHON = process.env.CNN_WORKBENCH_PYTHON || '/usr/bin/python3'
const dir = mkdtempSync(join(tmpdir(), 'cnn-export-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function python(args: string[], timeout = 100_000): { status: number | null; out: string } {
  const proc = spawnSync(PYTHON, args, { encoding: 'utf8', timeout })
  return { status: proc.status, out: `${proc.stdout ?? ''}${proc.stderr ?? ''}` }
}

// Tests that run Python report themselves as skipped where it (or torch) is absent, never as
// passed on a weaker check; .ci/run installs PyTorch, so CI runs them all.
const pythonAvailable = python(['-c', 'pass'], 60_000).status === 0
const torchAvailable = pythonAvailable && python(['-c', 'import torch'], 60_000).status === 0

function spec(layers: LayerInput[], input: InputShape = { channels: 1, height: 28, width: 28 }) {
  return modelSpecSchema.parse({ format: MODEL_FORMAT, name: 'edge cases', input, layers })
}

const EDGE_CASES: ModelSpec[] = [
  spec(
    [
      {
        type: 'conv2d',
        filters: 5,
        kernelSize: [3, 4],
        stride: 2,
        padding: 'same',
        activation: 'leakyRelu'
      },
      { type: 'batchNorm' },
      {
        type: 'conv2d',
        filters: 4,
        kernelSize: 2,
        padding: 'same',
        useBias: false,
        activation: 'elu'
      },
      { type: 'avgPool2d', poolSize: [2, 3], stride: 1 },
      { type: 'activation', fn: 'sigmoid' },
      { type: 'flatten' },
      { type: 'dense', units: 17, activation: 'tanh', useBias: false },
      { type: 'batchNorm' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 3 }
    ],
    { channels: 3, height: 15, width: 9 }
  )
]

function writeScript(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function writeIdx(path: string, dims: number[], data: Uint8Array): void {
  const header = new Uint8Array(4 + 4 * dims.length)
  const view = new DataView(header.buffer)
  view.setUint8(2, 0x08)
  view.setUint8(3, dims.length)
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d))
  const all = new Uint8Array(header.length + data.length)
  all.set(header)
  all.set(data, header.length)
  writeFileSync(path, gzipSync(all))
}

describe('exportPytorch', () => {
  const specs = [...PRESETS.map((p) => p.spec), ...EDGE_CASES]

  it('writes a Net class whose layers follow the model file', () => {
    const text = exportPytorch(getPreset('lenet').spec, {
      dataset: { name: 'mnist', title: 'MNIST', classes: ['0', '1'] },
      hyper: { optimizer: 'sgd', learningRate: 0.05 }
    })
    expect(text).toContain('class Net(nn.Module):')
    expect(text).toContain('nn.Conv2d(1, 6, kernel_size=3, stride=1, padding=1),')
    expect(text).toContain('nn.Linear(784, 120),')
    expect(text).toContain('torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)')
    expect(text).toContain('LEARNING_RATE = 0.05')
    expect(text).toContain('# Dataset: MNIST (10 classes)')
  })

  it('refuses a model with a shape error, naming the layer', () => {
    const broken = spec([
      { type: 'conv2d', filters: 2, kernelSize: 3 },
      { type: 'dense', units: 10 }
    ])
    expect(() => exportPytorch(broken)).toThrow(WorkbenchError)
    expect(() => exportPytorch(broken)).toThrow(/layer 2: dense needs a flat vector/)
  })

  it('writes one commented row per layer of the model file', () => {
    specs.forEach((s) => {
      expect(exportPytorch(s).match(/^ {12}# \d+: /gm)).toHaveLength(s.layers.length)
    })
  })

  it.skipIf(!torchAvailable)('gives PyTorch the same parameter counts and output as summarizeModel', () => {
    const texts = specs.map((s) => exportPytorch(s))
    const paths = texts.map((text, i) => writeScript(`dry_run_${i}.py`, text))
    // One interpreter runs every script's --dry-run, since starting torch takes a second or two.
    const driver = [
      'import contextlib, io, json, runpy, sys',
      'results = []',
      `for path in ${JSON.stringify(paths)}:`,
      '    sys.argv = [path, "--dry-run"]',
      '    out = io.StringIO()',
      '    with contextlib.redirect_stdout(out):',
      '        runpy.run_path(path, run_name="__main__")',
      '    results.append(json.loads(out.getvalue().strip().splitlines()[-1]))',
      'print(json.dumps(results))'
    ].join('\n')
    const run = python(['-c', driver])
    expect(run.status, run.out).toBe(0)
    const results = JSON.parse(run.out.trim().split('\n').pop() ?? '[]')
    expect(results).toHaveLength(specs.length)
    specs.forEach((s, i) => {
      const summary = summarizeModel(s)
      expect(results[i], s.name).toEqual({
        params: summary.trainableParams,
        nonTrainable: summary.nonTrainableParams,
        output: summary.outputShape
      })
    })
  })

  it.skipIf(!torchAvailable)('trains for an epoch on random data and on gzipped IDX files', () => {
    const s = spec(
      [
        { type: 'conv2d', filters: 2, kernelSize: 3, activation: 'relu' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 4 }
      ],
      { channels: 1, height: 8, width: 8 }
    )
    const path = writeScript('tiny.py', exportPytorch(s, { hyper: { batchSize: 8, epochs: 1 } }))
    const random = python([path])
    expect(random.status, random.out).toBe(0)
    expect(random.out).toMatch(/epoch 1: loss \d/)

    const count = 20
    const images = new Uint8Array(count * 64).map((_, i) => (i * 37) % 256)
    const labels = new Uint8Array(count).map((_, i) => i % 4)
    writeIdx(join(dir, 'img.gz'), [count, 8, 8], images)
    writeIdx(join(dir, 'lbl.gz'), [count], labels)
    const idxArgs = ['--train-images', join(dir, 'img.gz'), '--train-labels', join(dir, 'lbl.gz')]
    const testArgs = ['--test-images', join(dir, 'img.gz'), '--test-labels', join(dir, 'lbl.gz')]
    const idx = python([path, ...idxArgs, ...testArgs, '--epochs', '2'])
    expect(idx.status, idx.out).toBe(0)
    expect(idx.out).toMatch(/epoch 2: loss [\d.]+, train accuracy [\d.]+/)
    expect(idx.out).toMatch(/test accuracy [\d.]+/)
  })
})

describe('exportKeras', () => {
  it('writes a Keras Sequential model with channels-last input', () => {
    const text = exportKeras(getPreset('lenet5').spec)
    expect(text).toContain('keras.Input(shape=(28, 28, 1)),')
    expect(text).toContain('layers.ZeroPadding2D(2),')
    expect(text).toContain('layers.Conv2D(6, 5, strides=1, padding="valid", activation="tanh"),')
    expect(text).toContain('layers.AveragePooling2D(2, strides=2),')
    expect(text).toContain('61706 trainable parameters')
  })

  it('adds LeakyReLU with PyTorch slope as its own layer', () => {
    const text = exportKeras(EDGE_CASES[0])
    expect(text).toContain('layers.LeakyReLU(0.01),')
    expect(text).toContain('padding="same"')
    expect(text).toContain('layers.BatchNormalization(),')
  })

  it.skipIf(!pythonAvailable)('produces valid Python for every preset', () => {
    for (const p of PRESETS) {
      const path = writeScript(`keras_${p.id.replace(/\W/g, '_')}.py`, exportKeras(p.spec))
      const check = python(['-c', `import ast; ast.parse(open(${JSON.stringify(path)}).read())`])
      expect(check.status, check.out).toBe(0)
    }
  })
})

describe('export text safety', () => {
  it('keeps a hostile model name inside a comment', () => {
    const s = { ...getPreset('mlp').spec, name: 'evil\nimport os\r\u2028os.system("x")' }
    const text = exportPytorch(s)
    expect(text).toContain('# evil import os os.system("x"): exported from CNN Workbench.')
    expect(text).not.toMatch(/^import os/m)
  })
})
