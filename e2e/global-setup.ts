import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const HOST_START_TIMEOUT_MS = 30_000

/** Starts the real web host (built renderer, real engine) on a fresh data folder. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cnnwb-e2e-'))
  // CNNWB_OUT lets parallel work build into its own folder (electron-vite build --outDir).
  const outDir = process.env.CNNWB_OUT ?? 'out'
  const host: ChildProcess = spawn(process.execPath, [join(__dirname, '..', outDir, 'main/web-host.js')], {
    env: { ...process.env, CNN_WORKBENCH_HOME: dataDir },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('The web host did not start')), HOST_START_TIMEOUT_MS)
    let out = ''
    host.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    host.on('exit', (code) => reject(new Error(`The web host exited with ${code}: ${out}`)))
  })
  process.env.E2E_URL = url
  process.env.E2E_DATA_DIR = dataDir
  process.env.E2E_HOST_PID = String(host.pid)
  return async () => {
    host.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    host.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
}
