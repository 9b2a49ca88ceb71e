import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { getPreset } from '../src/shared/model/presets'
import { serializeModel } from '../src/shared/model/model-file'
import { exportKeras } from '../src/shared/export/keras'
import { exportPytorch } from '../src/shared/export/pytorch'
import { runCli, tempDir, type CliResult } from './helpers'

const CLI_TIMEOUT_MS = 60_000

const cli = (args: string[]): CliResult => runCli(tmp.dir, args, CLI_TIMEOUT_MS)

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir('cnnwb-export-')
})
afterEach(() => tmp.cleanup())

describe('cnn-workbench export', () => {
  it('writes PyTorch code for a preset to stdout', () => {
    const r = cli(['export', '--preset', 'cnn3', '--format', 'pytorch'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(exportPytorch(getPreset('cnn3').spec))
    expect(r.stdout).toContain('nn.Conv2d(1, 16, kernel_size=3, stride=1, padding=1)')
    expect(r.stdout).toContain('98442 trainable parameters')
  })

  it('writes Keras code for a model file atomically to --out and leaves no temp file', () => {
    const model = join(tmp.dir, 'lenet.json')
    writeFileSync(model, serializeModel(getPreset('lenet').spec))
    const out = join(tmp.dir, 'lenet_keras.py')
    const r = cli(['export', '--model', model, '--format', 'keras', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('Wrote Keras code')
    expect(readFileSync(out, 'utf8')).toBe(exportKeras(getPreset('lenet').spec))
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('refuses an unknown format with a typed error and a non-zero exit', () => {
    const r = cli(['export', '--preset', 'lenet', '--format', 'onnx', '--json'])
    expect(r.code).toBe(1)
    const line = JSON.parse(r.stdout.trim()) as { event: string; code: string; message: string }
    expect(line).toMatchObject({ event: 'error', code: 'BAD_REQUEST' })
    expect(line.message).toContain('Unknown format "onnx"')
    expect(line.message).toContain('pytorch')
  })

  it('names the broken field of a model file and writes nothing', () => {
    const model = join(tmp.dir, 'bad.json')
    const spec = JSON.parse(serializeModel(getPreset('lenet').spec)) as { layers: object[] }
    spec.layers[0] = { type: 'conv2d', filters: -3, kernelSize: 3 }
    writeFileSync(model, JSON.stringify(spec))
    const out = join(tmp.dir, 'bad.py')
    const r = cli(['export', '--model', model, '--format', 'pytorch', '--out', out])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/Error \(INVALID_MODEL\): .*bad\.json: .*layers\.0\.filters/)
    expect(existsSync(out)).toBe(false)
  })

  it('refuses a model with a shape error, naming the layer', () => {
    const model = join(tmp.dir, 'shape.json')
    const spec = JSON.parse(serializeModel(getPreset('lenet').spec)) as {
      layers: Array<Record<string, unknown>>
    }
    spec.layers[0] = { ...spec.layers[0], kernelSize: 31 }
    writeFileSync(model, JSON.stringify(spec))
    const r = cli(['export', '--model', model, '--format', 'keras'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('layer 1: kernel 31 is larger')
  })

  it('asks for a format when none is given', () => {
    const r = cli(['export', '--preset', 'lenet'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--format pytorch|keras')
  })
})
