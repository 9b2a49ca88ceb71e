import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tf } from './tf'
import { buildModel, snapshotWeights, type BuiltModel } from './model'
import { parseIdx } from '../data/datasets/idx'
import { defaultMnistDir } from '../data/datasets/registry'
import { exportPytorch } from '../shared/export/pytorch'
import { decodeSafetensors, encodeSafetensors } from '../shared/export/safetensors'
import { fromTorchTensors, nhwcToNchw, toTorchTensors } from '../shared/export/torch-layout'
import { PRESETS } from '../shared/model/presets'
import { randomSpecs } from '../shared/model/random-spec'
import type { ModelSpec } from '../shared/model/spec'
import { seededRandom } from '../shared/random'

const PYTHON = '/usr/bin/python3'
const TEMPLATES = join(__dirname, '../shared/export/templates')
const IMAGES = 100
const RANDOM_ARCHITECTURES = 60
const MAX_LOGIT_DIFF = 1e-4
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { timeout: 300_000 }).status === 0

const work = mkdtempSync(join(tmpdir(), 'cnnwb-roundtrip-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** 100 MNIST test images for a 1×28×28 input, seeded random pixels for any other, NHWC in [0, 1]. */
function imagesFor(spec: ModelSpec, seed: number): Float32Array {
  const { channels, height, width } = spec.input
  const size = channels * height * width
  if (channels === 1 && height === 28 && width === 28) {
    const idx = parseIdx(readFileSync(join(defaultMnistDir()!, 't10k-images-idx3-ubyte')), 't10k')
    return Float32Array.from(idx.data.subarray(0, IMAGES * size), (b) => b / 255)
  }
  const random = seededRandom(seed)
  return Float32Array.from({ length: IMAGES * size }, () => random())
}

/** A model with its init weights, and batch-norm parameters moved off 1/0 so their mapping counts. */
async function trainedLikeModel(spec: ModelSpec, seed: number): Promise<BuiltModel> {
  const model = buildModel(spec, seed, `rt${seed}`)
  const random = seededRandom(seed + 7)
  for (const v of model.variables) {
    if (/gamma|moving_variance/.test(v.name)) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => 0.5 + random()), v.shape))
    if (/beta|moving_mean/.test(v.name)) v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => random() - 0.5), v.shape))
  }
  return model
}

async function logits(model: BuiltModel, spec: ModelSpec, images: Float32Array): Promise<Float32Array> {
  const { channels, height, width } = spec.input
  const y = tf.tidy(() => model.forward(tf.tensor4d(images, [IMAGES, height, width, channels]), false))
  const out = (await y.data()) as Float32Array
  y.dispose()
  return out
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

const presetSpecs = PRESETS.map((p) => p.spec)
const randomOnes = randomSpecs(20_261_202, RANDOM_ARCHITECTURES, 0)

describe('weights round trip through safetensors in PyTorch layout', () => {
  it(`gives identical logits for every preset and ${RANDOM_ARCHITECTURES} random architectures`, { timeout: 1_200_000 }, async () => {
    expect(randomOnes).toHaveLength(RANDOM_ARCHITECTURES)
    let worst = 0
    for (const [i, spec] of [...presetSpecs, ...randomOnes].entries()) {
      const source = await trainedLikeModel(spec, i + 1)
      const weights = await snapshotWeights(source)
      const file = encodeSafetensors(toTorchTensors(spec, weights))
      const decoded = decodeSafetensors(file)
      const back = fromTorchTensors(spec, decoded.tensors, 'weights.safetensors')
      const target = buildModel(spec, 1000 + i, `rtback${i}`)
      target.variables.forEach((v, k) => v.assign(tf.tensor(back[k].data, back[k].shape)))
      const images = imagesFor(spec, i)
      const diff = maxDiff(await logits(source, spec, images), await logits(target, spec, images))
      worst = Math.max(worst, diff)
      expect(diff, `${spec.name}: ${JSON.stringify(spec.layers)}`).toBeLessThan(MAX_LOGIT_DIFF)
      source.dispose()
      target.dispose()
    }
    // A pure permutation of float32 values: nothing may change at all.
    expect(worst).toBe(0)
  })

  it.skipIf(!hasTorch)('PyTorch computes the same logits from the exported weights (presets and random architectures with batch norm)', { timeout: 900_000 }, async () => {
    const withBatchNorm = randomOnes.filter((s) => s.layers.some((l) => l.type === 'batchNorm')).slice(0, 4)
    const others = randomOnes.filter((s) => !withBatchNorm.includes(s)).slice(0, 4)
    const specs = [...presetSpecs, ...withBatchNorm, ...others]
    const cases: Array<{ dir: string; count: number }> = []
    const ours: Float32Array[] = []
    for (const [i, spec] of specs.entries()) {
      const dir = join(work, `case${i}`)
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(dir)
      const model = await trainedLikeModel(spec, 500 + i)
      writeFileSync(join(dir, 'model.py'), exportPytorch(spec))
      writeFileSync(join(dir, 'weights.safetensors'), encodeSafetensors(toTorchTensors(spec, await snapshotWeights(model))))
      const images = imagesFor(spec, i)
      const { channels, height, width } = spec.input
      writeFileSync(join(dir, 'images.f32'), nhwcToNchw(images, [IMAGES, height, width, channels]).data)
      ours.push(await logits(model, spec, images))
      cases.push({ dir, count: IMAGES })
      model.dispose()
    }
    const script = `
import importlib.util, json, sys
import numpy as np, torch
spec = importlib.util.spec_from_file_location("train", ${JSON.stringify(join(TEMPLATES, 'train.py'))})
train = importlib.util.module_from_spec(spec); spec.loader.exec_module(train)
for case in json.loads(sys.argv[1]):
    sys.path.insert(0, case["dir"]); sys.modules.pop("model", None)
    import model as m
    net = m.Net(); net.eval()
    tensors, _ = train.read_safetensors(case["dir"] + "/weights.safetensors")
    train.load_model_weights(net, tensors, "weights.safetensors")
    x = torch.from_numpy(np.fromfile(case["dir"] + "/images.f32", dtype="<f4")).reshape(case["count"], *m.INPUT_SHAPE)
    with torch.no_grad():
        net(x).numpy().astype("<f4").tofile(case["dir"] + "/logits.f32")
    sys.path.pop(0)
`
    const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(cases)], { encoding: 'utf8', timeout: 300_000 })
    expect(r.status, r.stderr).toBe(0)
    specs.forEach((spec, i) => {
      const bytes = readFileSync(join(cases[i].dir, 'logits.f32'))
      const theirs = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
      expect(theirs.length).toBe(ours[i].length)
      expect(maxDiff(ours[i], theirs), `${spec.name}: ${JSON.stringify(spec.layers)}`).toBeLessThan(MAX_LOGIT_DIFF)
    })
  })
})
