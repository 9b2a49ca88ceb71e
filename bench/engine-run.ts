// One benchmark run through the engine's own pipeline (selectBackend, chooseThreads, planSplit,
// prepareData, train: what EngineServer runs for the app), in this process so that its peak
// memory is the engine's. Prints one JSON line.
// Run: npx tsx bench/engine-run.ts --preset lenet [--backend auto] [--batches 20] [--threads N]
//      [--batch-size 128] [--optimizer sgd] [--lr 0.1] [--test-limit N]
//      [--app-defaults]   (optimizer, learning rate and batch size of the app's defaults)
//      (presets on 3x32x32 input train on 50,000 synthetic images: CIFAR-10 is not shipped, and
//      only their speed is compared)
//      npx tsx bench/engine-run.ts --probe wasm   (which backend this choice loads)
import { readFileSync } from 'node:fs'
import { selectBackend } from '../src/engine/backends/select'
import { defaultKernelBuild } from '../src/engine/backends/wasm-kernels/native-module'
import { chooseThreads } from '../src/engine/parallel-training'
import { planSplit, prepareData } from '../src/engine/data'
import { train } from '../src/engine/trainer'
import { tmpdir } from 'node:os'
import { loadDataset } from '../src/data/datasets/registry'
import { DatasetRegistry } from '../src/data/datasets/registry'
import { getPreset } from '../src/shared/model/presets'
import { DEFAULT_HYPER, hyperSchema, type BackendChoice, type OptimizerName } from '../src/shared/hyper'
import type { LoadedDataset } from '../src/data/datasets/types'

/** Training images of the synthetic stand-in for CIFAR-10 (its size), as in torch_reference.py. */
const SYNTHETIC_TRAIN_COUNT = 50_000
const SYNTHETIC_TEST_COUNT = 10_000

/** Deterministic pseudo-random images of a shape: enough to time training, not to learn. */
function syntheticDataset(shape: [number, number, number]): LoadedDataset {
  const size = shape[0] * shape[1] * shape[2]
  const split = (count: number, salt: number) => ({
    images: Uint8Array.from({ length: count * size }, (_, i) => (i * 131 + Math.floor(i / 128) * 17 + salt) % 251),
    labels: Uint8Array.from({ length: count }, (_, i) => (i * 7 + salt) % 10),
    count
  })
  return {
    name: 'synthetic',
    shape,
    classes: Array.from({ length: 10 }, (_, i) => String(i)),
    train: split(SYNTHETIC_TRAIN_COUNT, 1),
    test: split(SYNTHETIC_TEST_COUNT, 2)
  }
}

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}

/** Peak resident memory of this process (all threads), from the kernel's high-water mark. */
function peakRssBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss
}

async function main(): Promise<void> {
  const probe = arg('probe')
  if (probe) {
    const chosen = await selectBackend(probe as BackendChoice)
    console.log(JSON.stringify({ probe, backend: chosen.backend, notes: chosen.notes }))
    process.exit(0)
  }
  const preset = arg('preset', 'lenet')!
  const appDefaults = process.argv.includes('--app-defaults')
  const batchSize = appDefaults ? DEFAULT_HYPER.batchSize : Number(arg('batch-size', '128'))
  const batches = arg('batches')
  const testLimit = arg('test-limit')
  const requestedThreads = arg('threads')
  const hyper = hyperSchema.parse({
    optimizer: appDefaults ? DEFAULT_HYPER.optimizer : (arg('optimizer', 'sgd') as OptimizerName),
    learningRate: appDefaults ? DEFAULT_HYPER.learningRate : Number(arg('lr', '0.1')),
    batchSize,
    epochs: 1,
    validationSplit: 0,
    // Pixels in [0, 1] on both sides (torch_reference.py divides by 255); normalization and the
    // schedule change no kernel, so the default-settings rows still time the app's defaults.
    normalization: 'unit',
    schedule: 'none',
    backend: arg('backend', 'auto') as BackendChoice,
    ...(batches ? { limit: Number(batches) * batchSize } : {})
  })
  const spec = getPreset(preset).spec
  const { channels, height, width } = spec.input
  const synthetic = channels !== 1 || height !== 28 || width !== 28
  const ds = synthetic
    ? syntheticDataset([channels, height, width])
    : await loadDataset(await new DatasetRegistry({ dataDir: tmpdir() }).resolve('mnist'))
  if (testLimit) {
    const n = Number(testLimit)
    const size = channels * height * width
    ds.test = { images: ds.test.images.subarray(0, n * size), labels: ds.test.labels.subarray(0, n), count: n }
  }
  const chosen = await selectBackend(hyper.backend)
  const threads = chooseThreads(spec, hyper, chosen.backend, requestedThreads ? Number(requestedThreads) : undefined)
  const data = prepareData(ds, planSplit(ds.train.count, hyper.validationSplit, hyper.seed, hyper.limit), threads > 1)
  let epoch: { seconds: number; samplesPerSecond: number; loss: number } | null = null
  const result = await train(
    spec,
    hyper,
    data,
    { progress: () => {}, epoch: (metrics) => (epoch = metrics) },
    { stopped: false },
    'bench',
    { threads }
  )
  data.dispose()
  const e = epoch as { seconds: number; samplesPerSecond: number; loss: number } | null
  if (!e || !result.test) throw new Error('No epoch finished.')
  const test = result.test
  console.log(
    JSON.stringify({
      engine: 'tfjs',
      preset,
      data: synthetic ? 'synthetic' : 'mnist',
      backend: chosen.backend,
      // Which build of the project's wasm kernels ran (native-module.ts: relaxed = fused multiply-adds).
      ...(chosen.backend === 'wasm' ? { kernels: defaultKernelBuild() } : {}),
      threads: result.threads,
      batch_size: batchSize,
      optimizer: hyper.optimizer,
      lr: hyper.learningRate,
      samples: data.train.count,
      limited: batches !== undefined,
      seconds: +e.seconds.toFixed(3),
      samples_per_s: Math.round(e.samplesPerSecond),
      loss: +e.loss.toFixed(4),
      test_accuracy: +test.testAccuracy.toFixed(4),
      test_count: test.testCount,
      peak_rss_mb: Math.round(peakRssBytes() / 2 ** 20)
    })
  )
  // Wasm and worker threads can keep the loop alive; the result is out.
  process.exit(0)
}

void main()
