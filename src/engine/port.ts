import type { FromEngine } from '../shared/engine-protocol'

/** The engine's link to its parent: Electron's parentPort or Node's IPC channel. */
export interface ParentPort {
  send(message: FromEngine): void
  onMessage(listener: (message: unknown) => void): void
}

interface ElectronParentPort {
  postMessage(message: unknown): void
  on(event: 'message', listener: (e: { data: unknown }) => void): void
}

/** Picks the transport this process was started with. */
export function connectParent(): ParentPort {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
  if (electronPort) {
    return {
      send: (m) => electronPort.postMessage(m),
      onMessage: (l) => electronPort.on('message', (e) => l(e.data))
    }
  }
  if (!process.send) throw new Error('The engine must be started by the workbench (no IPC channel).')
  return {
    send: (m) => {
      process.send?.(m)
    },
    onMessage: (l) => process.on('message', l)
  }
}
