#!/usr/bin/env node
'use strict'
// Checks the layers' imports (scripts/check-layers.js), then type-checks the three projects: Node
// side, renderer, and the Electron host (against Electron's real types where it installed,
// against types/electron-shim.d.ts where it could not).
const { spawnSync } = require('node:child_process')
const { join } = require('node:path')

const root = join(__dirname, '..')
let electronTypes = true
try {
  require.resolve('electron/electron.d.ts', { paths: [root] })
} catch {
  electronTypes = false
}
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] })
const vueTsc = require.resolve('vue-tsc/bin/vue-tsc.js', { paths: [root] })
const steps = [
  [join(__dirname, 'check-layers.js')],
  [tsc, '-p', 'tsconfig.node.json'],
  [tsc, '-p', electronTypes ? 'tsconfig.electron.json' : 'tsconfig.electron-shim.json'],
  [tsc, '-p', 'tsconfig.e2e.json'],
  [vueTsc, '-p', 'tsconfig.web.json']
]
for (const [bin, ...args] of steps) {
  const r = spawnSync(process.execPath, [bin, '--noEmit', ...args], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
