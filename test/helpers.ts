import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createServices, type Services } from '../src/main/services/create-services'
import { nodeEngineLauncher } from '../src/main/engine/node-launcher'

export const ROOT = resolve(__dirname, '..')
/** The engine entry as TypeScript: tests run the real engine process through tsx. */
export const ENGINE_TS = join(ROOT, 'src/engine/main.ts')

/** A fresh data folder, removed by the returned cleanup. */
export function tempDir(prefix = 'cnnwb-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The main process's real services with a real engine child process. */
export function realServices(dataDir: string): Services {
  return createServices({ dataDir, launcher: nodeEngineLauncher(ENGINE_TS), host: 'web', version: 'test' })
}
