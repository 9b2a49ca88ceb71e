import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createServices, type Services } from '../src/core/services/create-services'
import { nodeEngineLauncher } from '../src/core/engine/node-launcher'
import type { EngineHandle, EngineLauncher, SupervisorOptions } from '../src/core/engine/supervisor'

export const ROOT = resolve(__dirname, '..')
/** The engine entry as TypeScript: tests run the real engine process through tsx. */
export const ENGINE_TS = join(ROOT, 'src/engine/main.ts')

/** A fresh data folder, removed by the returned cleanup. */
export function tempDir(prefix = 'cnnwb-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The main process's real services with a real engine child process. */
export function realServices(
  dataDir: string,
  launcher: EngineLauncher = nodeEngineLauncher(ENGINE_TS),
  engine?: SupervisorOptions
): Services {
  return createServices({ dataDir, launcher, host: 'web', version: 'test', engine })
}

/** A real engine launcher whose latest process a test can kill as a crash would. */
export function crashableEngine(entry = ENGINE_TS): { launcher: EngineLauncher; crash(): void } {
  const launch = nodeEngineLauncher(entry)
  let latest: EngineHandle | null = null
  return {
    launcher: (env) => (latest = launch(env)),
    crash: () => latest?.kill()
  }
}

/** What one CLI invocation printed: exit code, output, and its JSON lines parsed. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  lines: Record<string, unknown>[]
}

/** Runs the real CLI entry (TypeScript through tsx) with `home` as its data folder. */
export function runCli(home: string, args: string[], timeoutMs = 180_000): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/hosts/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CNN_WORKBENCH_HOME: home, CNN_WORKBENCH_ENGINE: ENGINE_TS },
    timeout: timeoutMs
  })
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines }
}

const POLL_MS = 20

/** Resolves once `check` holds, polling every 20 ms; throws 'timed out' after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}
