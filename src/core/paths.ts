import { homedir } from 'node:os'
import { join } from 'node:path'

/** The data folder for the web host and the CLI: $CNN_WORKBENCH_HOME or ~/.cnn-workbench. */
export function defaultDataDir(): string {
  return process.env.CNN_WORKBENCH_HOME || join(homedir(), '.cnn-workbench')
}

/** The built engine entry beside the running bundle (out/main/engine.js). */
export function engineEntry(bundleDir: string): string {
  return join(bundleDir, 'engine.js')
}
