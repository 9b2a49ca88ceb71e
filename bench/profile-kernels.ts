// Per-kernel time of one training step of a preset on one thread (forward, backward and the
// optimizer's update), averaged over several steps after a warm-up: where a preset's time goes.
// Run: npx tsx bench/profile-kernels.ts --preset lenet5 [--batch-size 64] [--steps 10] [--by-shape]
// (--by-shape: one row per kernel and input shapes, e.g. each convolution of a preset apart;
//  --min: each row's fastest step instead of the mean, for hosts whose speed drifts)
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../src/engine/backends/select'
import { buildModel } from '../src/engine/model'
import { getPreset } from '../src/shared/model/presets'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback
}

async function main(): Promise<void> {
  await selectBackend('wasm')
  const preset = arg('preset', 'lenet5')
  const batch = Number(arg('batch-size', '64'))
  const steps = Number(arg('steps', '10'))
  const byShape = process.argv.includes('--by-shape')
  const fastest = process.argv.includes('--min')
  const spec = getPreset(preset).spec
  const { channels, height, width } = spec.input
  const model = buildModel(spec, 0, 'profile')
  const x = tf.randomUniform([batch, height, width, channels]) as tf.Tensor4D
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10)
  const optimizer = tf.train.sgd(0.01)
  const step = (): void => {
    tf.tidy(() => {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x, true)) as tf.Scalar)
    })
  }
  for (let i = 0; i < 3; i++) step()
  const byKernel = new Map<string, { ms: number; calls: number; shapes: string; perStep: number[] }>()
  let wall = 0
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now()
    const info = await tf.profile(step)
    wall += performance.now() - t0
    for (const k of info.kernels) {
      const key = byShape ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name
      const e = byKernel.get(key) ?? { ms: 0, calls: 0, shapes: '', perStep: [] }
      const ms = Number(k.kernelTimeMs) || 0
      e.ms += ms
      e.calls++
      e.perStep[i] = (e.perStep[i] ?? 0) + ms
      e.shapes ||= JSON.stringify(k.inputShapes)
      byKernel.set(key, e)
    }
  }
  // With --min a row's time is its fastest step's, scaled back up to `steps` for the table.
  if (fastest) for (const e of byKernel.values()) e.ms = Math.min(...e.perStep.filter((v) => v !== undefined)) * steps
  const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms)
  const total = rows.reduce((n, [, e]) => n + e.ms, 0)
  console.log(`${preset}, batch ${batch}: ${(total / steps).toFixed(2)} ms of kernels per step, ${(wall / steps).toFixed(2)} ms per profiled step`)
  for (const [name, e] of rows) {
    console.log(`${(byShape ? name.split(' ')[0]! : name).padEnd(24)} ${(e.ms / steps).toFixed(3).padStart(8)} ms  ${String(e.calls / steps).padStart(4)} calls  ${e.shapes.slice(0, 80)}`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
