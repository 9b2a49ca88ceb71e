// One benchmark run through the engine's own pipeline (selectBackend, chooseThreads, planSplit,
// prepareData, train: what EngineServer runs for the app), in this process so that its peak
// memory is the engine's. Prints one JSON line.
// Run: npx tsx bench/engine-run.ts --preset lenet [--backend auto] [--batches 20] [--threads N]
//      [--batch-size 128] [--optimizer sgd] [--lr 0.1] [--test-limit N]
//      npx tsx bench/engine-run.ts --probe wasm   (which backend this choice loads)
import { readFileSync } from 'node:fs'
import { selectBackend } from '../src/engine/backends/select'
import { chooseThreads } from '../src/engine/parallel-training'
import { planSplit, prepareData } from '../src/engine/data'
import { train } from '../src/engine/trainer'
import { tmpdir } from 'node:os'
import { loadDataset } from '../src/data/datasets/registry'
import { DatasetRegistry } from '../src/data/datasets/registry'
import { getPreset } from '../src/shared/model/presets'
import { hyperSchema, type BackendChoice, type OptimizerName } from '../src/shared/hyper'

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
  const batchSize = Number(arg('batch-size', '128'))
  const batches = arg('batches')
  const testLimit = arg('test-limit')
  const requestedThreads = arg('threads')
  const hyper = hyperSchema.parse({
    optimizer: arg('optimizer', 'sgd') as OptimizerName,
    learningRate: Number(arg('lr', '0.1')),
    batchSize,
    epochs: 1,
    validationSplit: 0,
    backend: arg('backend', 'auto') as BackendChoice,
    ...(batches ? { limit: Number(batches) * batchSize } : {})
  })
  const spec = getPreset(preset).spec
  const registry = new DatasetRegistry({ dataDir: tmpdir() })
  const ds = await loadDataset(await registry.resolve('mnist'))
  if (testLimit) {
    const n = Number(testLimit)
    ds.test = { images: ds.test.images.subarray(0, n * 784), labels: ds.test.labels.subarray(0, n), count: n }
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
  if (!e) throw new Error('No epoch finished.')
  console.log(
    JSON.stringify({
      engine: 'tfjs',
      preset,
      backend: chosen.backend,
      threads: result.threads,
      batch_size: batchSize,
      optimizer: hyper.optimizer,
      lr: hyper.learningRate,
      samples: data.train.count,
      limited: batches !== undefined,
      seconds: +e.seconds.toFixed(3),
      samples_per_s: Math.round(e.samplesPerSecond),
      loss: +e.loss.toFixed(4),
      test_accuracy: +result.test.testAccuracy.toFixed(4),
      test_count: result.test.testCount,
      peak_rss_mb: Math.round(peakRssBytes() / 2 ** 20)
    })
  )
  // Wasm and worker threads can keep the loop alive; the result is out.
  process.exit(0)
}

void main()
