import { utilityProcess } from 'electron'
import type { EngineHandle, EngineLauncher } from '../../core/engine/supervisor'

/** Launches the engine as an Electron utilityProcess. */
export function utilityEngineLauncher(entry: string): EngineLauncher {
  return (): EngineHandle => {
    const child = utilityProcess.fork(entry, [], { serviceName: 'CNN Workbench engine', stdio: 'inherit' })
    return {
      send: (m) => child.postMessage(m),
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.on('exit', (code) => l(code)),
      kill: () => {
        child.kill()
      }
    }
  }
}
