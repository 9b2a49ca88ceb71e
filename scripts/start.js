#!/usr/bin/env node
'use strict'
// `npm start`: the desktop app where Electron's binary is installed, the web host otherwise.
// `npm run serve` (--web): the web host directly.
const { existsSync } = require('node:fs')
const { join } = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const root = join(__dirname, '..')
const built = ['out/main/index.js', 'out/main/web-host.js', 'out/main/engine.js', 'out/renderer/index.html']

function ensureBuilt() {
  if (built.every((f) => existsSync(join(root, f)))) return
  console.log('Building CNN Workbench (first start)…')
  const r = spawnSync(process.execPath, [require.resolve('electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit'
  })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

function electronBinary() {
  try {
    // The electron package exports the path of its binary, which its install script downloads.
    const path = require('electron')
    return typeof path === 'string' && existsSync(path) ? path : null
  } catch {
    return null
  }
}

function run(cmd, args, { ipc = false } = {}) {
  // The web host gets an IPC channel: it closes when this launcher dies, however it dies
  // (even SIGKILL), and the host then shuts down instead of running on unseen.
  const stdio = ipc ? ['inherit', 'inherit', 'inherit', 'ipc'] : 'inherit'
  const child = spawn(cmd, args, { cwd: root, stdio })
  const forward = (sig) => child.kill(sig)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  child.on('exit', (code) => process.exit(code ?? 0))
}

ensureBuilt()
const webOnly = process.argv.includes('--web')
const electron = webOnly ? null : electronBinary()
if (electron) {
  run(electron, [root])
} else {
  if (!webOnly) {
    console.log("Electron's binary is not installed here (its download needs internet access),")
    console.log('so CNN Workbench starts as a web app on this machine instead.')
  }
  const extra = process.argv.slice(2).filter((a) => a !== '--web')
  run(process.execPath, [join(root, 'out/main/web-host.js'), ...extra], { ipc: true })
}
