import { ipcRenderer, type IpcRendererEvent } from 'electron'
import type { Transport } from '../shared/contract/api'
import { WorkbenchError, errorInfoSchema } from '../shared/contract/errors'

/** The only file in the preload that touches ipcRenderer: invoke and subscribe, nothing raw. */
export const ipcTransport: Transport = {
  async invoke(channel, payload) {
    const env = (await ipcRenderer.invoke(channel, payload)) as { ok: boolean; value?: unknown; error?: unknown }
    if (env.ok) return env.value
    const info = errorInfoSchema.safeParse(env.error)
    throw info.success ? WorkbenchError.from(info.data) : new WorkbenchError('INTERNAL', 'Malformed error from the app.')
  },
  subscribe(channel, listener) {
    const wrapped = (_e: IpcRendererEvent, payload: unknown): void => listener(payload)
    ipcRenderer.on(channel, wrapped)
    return () => {
      ipcRenderer.removeListener(channel, wrapped)
    }
  }
}
